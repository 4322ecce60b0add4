import { HubbleNodesWatch } from '../../../src/collector/shared-hubble-nodes';

describe('HubbleNodesWatch: the Hubble nodes two collectors both read', () => {
  it('stores the nodes of the last stored period and those read since, sorted, and says when they have not changed', () => {
    const watch = new HubbleNodesWatch();
    const first = watch.period(['n2', 'n1']);
    expect(first).toEqual({ nodes: ['n1', 'n2'], changed: true });
    watch.committed(first.nodes, []);
    // n3 is new; n1 and n2 were read in the period stored before, which still counts.
    const second = watch.period(['n3']);
    expect(second).toEqual({ nodes: ['n1', 'n2', 'n3'], changed: true });
    watch.committed(second.nodes, []);
    const third = watch.period(['n3']);
    expect(third).toEqual({ nodes: ['n3'], changed: true });
    watch.committed(third.nodes, []);
    expect(watch.period(['n3'])).toEqual({ nodes: ['n3'], changed: false });
  });

  it('keeps what a period whose store failed read, for the next store', () => {
    const watch = new HubbleNodesWatch();
    watch.committed(watch.period(['n1']).nodes, []);
    // Two renewals fail (Neo4j away): nothing is committed, and what they read is not forgotten.
    expect(watch.period(['n2']).nodes).toEqual(['n1', 'n2']);
    expect(watch.period(['n3']).nodes).toEqual(['n1', 'n2', 'n3']);
    const stored = watch.period([]);
    expect(stored).toEqual({ nodes: ['n1', 'n2', 'n3'], changed: true });
    watch.committed(stored.nodes, []);
    expect(watch.period([]).nodes).toEqual(['n2', 'n3']);
  });

  it('names each collector that shares nodes once when it begins and once when it ends, and counts the distinct nodes shared', () => {
    const watch = new HubbleNodesWatch();
    const both = watch.committed(watch.period(['a', 'b', 'c']).nodes, [
      { collectorId: 'x', host: 'h1', nodes: ['c', 'b', 'z'] },
      { collectorId: 'y', host: 'h2', nodes: ['b'] },
      { collectorId: 'w', host: 'h3', nodes: ['q'] },
    ]);
    expect(both.shared).toBe(2);
    expect(both.began).toEqual([
      { collectorId: 'x', host: 'h1', nodes: ['b', 'c'] },
      { collectorId: 'y', host: 'h2', nodes: ['b'] },
    ]);
    expect(both.ended).toEqual([]);
    // Still sharing: not named again.
    const again = watch.committed(watch.period(['a', 'b', 'c']).nodes, [{ collectorId: 'x', host: 'h1', nodes: ['c'] }]);
    expect(again).toEqual({ shared: 1, began: [], ended: ['y'] });
    watch.committed(watch.period([]).nodes, [{ collectorId: 'x', host: 'h1', nodes: ['c'] }]);
    expect(watch.committed(watch.period([]).nodes, [{ collectorId: 'x', host: 'h1', nodes: ['c'] }])).toEqual({
      shared: 0,
      began: [],
      ended: ['x'],
    });
  });
});
