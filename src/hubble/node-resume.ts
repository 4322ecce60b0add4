/**
 * Where a GetFlows stream that is asked again (a reconnect, a shard's new nodes) starts, node by
 * node. Relay sends each node's flows in that node's order, but nodes fall behind one another, and a
 * shard's node list changes: a node may join while others are read, or drop out of one GetNodes
 * answer and come back. So each node keeps its own point: the newest flow time yielded of it, and
 * the keys of its flows within the resume overlap before that. A request asks from the earliest
 * point of the nodes it names (less the overlap); what comes again of a node, before its own point
 * or among its recent keys, is dropped. A node first listed while others were read is wanted from
 * when the node list last lacked it.
 */
export class NodeResume {
  private readonly nodes = new Map<string, NodeState>();
  private newest: bigint | undefined;

  /**
   * @param overlapNs how far before a node's newest flow time flows may still come out of order
   *   (HG_RESUME_OVERLAP): they are asked for again and told apart by key.
   * @param horizonNs how far behind the newest flow of any node a request reaches at most: a node
   *   silent for longer does not pull every other node's flows back with it.
   */
  constructor(
    private readonly overlapNs: bigint,
    private readonly horizonNs: bigint,
  ) {}

  /** The newest flow time yielded of any node, undefined before the first. */
  get lastNs(): bigint | undefined {
    return this.newest;
  }

  /** Whether the node has yielded a flow, or was listed as new. */
  knows(node: string): boolean {
    return this.nodes.has(node);
  }

  /** A node first listed while the others were read: its flows are wanted from `fromNs` on. */
  listedNew(node: string, fromNs: bigint): void {
    if (!this.nodes.has(node)) this.nodes.set(node, new NodeState(fromNs));
  }

  /** A flow yielded. */
  yielded(node: string, key: string, ns: bigint): void {
    let state = this.nodes.get(node);
    if (state === undefined) this.nodes.set(node, (state = new NodeState(undefined)));
    state.add(key, ns, this.overlapNs);
    if (this.newest === undefined || ns > this.newest) this.newest = ns;
  }

  /**
   * What to ask when the stream is asked again for `nodes` (every node known when undefined): the
   * `since` (undefined before any flow), and which flows that come then were yielded already.
   */
  plan(nodes?: readonly string[]): { sinceNs: bigint | undefined; repeated: (node: string, key: string, ns: bigint) => boolean } {
    const newest = this.newest;
    if (newest === undefined) return { sinceNs: undefined, repeated: () => false };
    const floor = newest - this.horizonNs;
    // A node silent for longer than the horizon is asked from no earlier point: what it sends is new
    // (forgotten, so that nodes gone from the cluster do not pile up).
    for (const [name, state] of this.nodes) if (state.point !== undefined && state.point < floor) this.nodes.delete(name);
    let since = newest;
    for (const name of nodes ?? this.nodes.keys()) {
      const point = this.nodes.get(name)?.point;
      if (point !== undefined && point >= floor && point < since) since = point;
    }
    // What each node had yielded when asked: each is checked against its own point, not the others'.
    const below = new Map<string, bigint>();
    const keys = new Set<string>();
    for (const [name, state] of this.nodes) {
      if (state.lastNs === undefined) continue;
      below.set(name, state.lastNs - this.overlapNs);
      for (const key of state.keys()) keys.add(key);
    }
    return {
      sinceNs: since - this.overlapNs,
      repeated: (node, key, ns) => {
        const b = below.get(node);
        return (b !== undefined && ns < b) || keys.has(key);
      },
    };
  }
}

/** One node's point: its newest flow time yielded (or when it is wanted from), and its recent keys. */
class NodeState {
  lastNs: bigint | undefined;
  private readonly byKey = new Map<string, bigint>();
  private order: Array<{ key: string; ns: bigint }> = [];
  private head = 0;

  constructor(private readonly fromNs: bigint | undefined) {}

  /** Where a request must start for this node: after its newest flow, or from when it was first wanted. */
  get point(): bigint | undefined {
    return this.lastNs ?? this.fromNs;
  }

  add(key: string, ns: bigint, overlapNs: bigint): void {
    if (this.lastNs === undefined || ns > this.lastNs) this.lastNs = ns;
    this.byKey.set(key, ns);
    this.order.push({ key, ns });
    // Yield order is time order except for stragglers; drop from the front what fell behind the overlap.
    const cutoff = this.lastNs - overlapNs;
    for (let old = this.order[this.head]; old !== undefined && old.ns < cutoff; old = this.order[++this.head]) {
      if (this.byKey.get(old.key) === old.ns) this.byKey.delete(old.key);
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }
}
