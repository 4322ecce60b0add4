import type { OtherCollectorNodesRow } from '../graph/cypher/collector-queries';

/** Another live collector that reads flows of some of the same Hubble nodes as this one. */
export interface SharedNodes {
  readonly collectorId: string;
  readonly host: string | null;
  /** The nodes both read, sorted. */
  readonly nodes: readonly string[];
}

/** What changed at one check (HubbleNodesWatch.compare). */
export interface SharedNodesChange {
  /** Distinct nodes this collector read lately that another live collector read too. */
  readonly shared: number;
  /** Collectors that share nodes now and did not at the check before. */
  readonly began: readonly SharedNodes[];
  /** Collector ids that shared nodes at the check before and no longer do. */
  readonly ended: readonly string[];
}

/**
 * The Hubble nodes whose flows this collector read lately, stored on its Collector node at every
 * renewal of its id, and which of them other live collectors read too: two collectors reading one
 * node count each of its flows twice (two shards given the same HG_SHARD_INDEX, a single collector
 * left running beside the shards). "Lately": the period since the last check and the one before,
 * so that a node read in either is compared, whichever collector checks first. Pure.
 */
export class HubbleNodesWatch {
  private previous: readonly string[] = [];
  private stored: string | null = null;
  private mine = new Set<string>();
  private sharing = new Map<string, SharedNodes>();

  /**
   * The nodes to store for the period that ends now, given those read in it: with the period
   * before's, sorted; null when the store already holds exactly these.
   */
  period(readNow: Iterable<string>): string[] | null {
    const now = [...readNow];
    const nodes = [...new Set([...this.previous, ...now])].sort();
    this.previous = now;
    this.mine = new Set(nodes);
    const key = nodes.join('\n');
    return key === this.stored ? null : nodes;
  }

  /** The nodes given by `period` are stored now. */
  storedNodes(nodes: readonly string[]): void {
    this.stored = nodes.join('\n');
  }

  /** Compares this period's nodes with those the other live collectors stored. */
  compare(others: readonly OtherCollectorNodesRow[]): SharedNodesChange {
    const now = new Map<string, SharedNodes>();
    const shared = new Set<string>();
    for (const o of others) {
      const both = o.nodes.filter((n) => this.mine.has(n)).sort();
      if (both.length === 0) continue;
      now.set(o.collectorId, { collectorId: o.collectorId, host: o.host, nodes: both });
      for (const n of both) shared.add(n);
    }
    const began = [...now.values()].filter((o) => !this.sharing.has(o.collectorId));
    const ended = [...this.sharing.keys()].filter((id) => !now.has(id));
    this.sharing = now;
    return { shared: shared.size, began, ended };
  }
}
