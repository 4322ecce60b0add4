import type { OtherCollectorNodesRow } from '../graph/cypher/collector-queries';

/** Another live collector that reads flows of some of the same Hubble nodes as this one. */
export interface SharedNodes {
  readonly collectorId: string;
  readonly host: string | null;
  /** The nodes both read, sorted. */
  readonly nodes: readonly string[];
}

/** What changed at one check (HubbleNodesWatch.committed). */
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
 * node count the flows both read twice (two shards given the same HG_SHARD_INDEX, a single
 * collector left running beside the shards). "Lately": since the last stored period and in that
 * period, so that a node read in either is compared, whichever collector checks first; a period
 * whose store failed adds to the next. Pure.
 */
export class HubbleNodesWatch {
  /** Nodes of the last stored period, and those read since it. */
  private previous = new Set<string>();
  private current = new Set<string>();
  /** The nodes last stored, joined (null: none yet). */
  private stored: string | null = null;
  private sharing = new Map<string, SharedNodes>();

  /**
   * Takes the nodes read since the last call and gives what to store: the last stored period's
   * nodes and those read since, sorted, and whether the store holds other nodes than these.
   */
  period(readNow: Iterable<string>): { nodes: string[]; changed: boolean } {
    for (const n of readNow) this.current.add(n);
    const nodes = [...new Set([...this.previous, ...this.current])].sort();
    return { nodes, changed: nodes.join('\n') !== this.stored };
  }

  /**
   * The nodes `period` gave are stored now, and the other live collectors' nodes were read in the
   * same transaction: a new period starts, and what changed in who shares nodes is returned.
   */
  committed(nodes: readonly string[], others: readonly OtherCollectorNodesRow[]): SharedNodesChange {
    this.stored = nodes.join('\n');
    this.previous = this.current;
    this.current = new Set();
    const mine = new Set(nodes);
    const now = new Map<string, SharedNodes>();
    const shared = new Set<string>();
    for (const o of others) {
      const both = o.nodes.filter((n) => mine.has(n)).sort();
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
