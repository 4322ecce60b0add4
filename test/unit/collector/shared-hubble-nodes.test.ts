import { HubbleNodesWatch } from '../../../src/collector/shared-hubble-nodes';

describe('HubbleNodesWatch: the Hubble nodes two collectors both read', () => {
  it('stores the nodes of this period and the one before, sorted, and nothing when they have not changed', () => {
    const watch = new HubbleNodesWatch();
    const first = watch.period(['n2', 'n1']);
    expect(first).toEqual(['n1', 'n2']);
    watch.storedNodes(first ?? []);
    // n3 is new; n1 and n2 were read in the period before, which still counts.
    const second = watch.period(['n3']);
    expect(second).toEqual(['n1', 'n2', 'n3']);
    watch.storedNodes(second ?? []);
    expect(watch.period(['n3'])).toEqual(['n3']);
    watch.storedNodes(['n3']);
    expect(watch.period(['n3'])).toBeNull();
  });

  it('stores again what a failed store did not keep', () => {
    const watch = new HubbleNodesWatch();
    expect(watch.period(['n1'])).toEqual(['n1']);
    // The store failed (Neo4j away): storedNodes was not called, so the same nodes are stored next time.
    expect(watch.period(['n1'])).toEqual(['n1']);
  });

  it('names each collector that shares nodes once when it begins and once when it ends, and counts the distinct nodes shared', () => {
    const watch = new HubbleNodesWatch();
    watch.period(['a', 'b', 'c']);
    const both = watch.compare([
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
    watch.period(['a', 'b', 'c']);
    const again = watch.compare([{ collectorId: 'x', host: 'h1', nodes: ['c'] }]);
    expect(again).toEqual({ shared: 1, began: [], ended: ['y'] });
    watch.period([]);
    watch.period([]);
    expect(watch.compare([{ collectorId: 'x', host: 'h1', nodes: ['c'] }])).toEqual({ shared: 0, began: [], ended: ['x'] });
  });
});
