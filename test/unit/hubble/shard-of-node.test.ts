import { nodesOfShard, ordinalOfHostname, shardOfNode } from '../../../src/hubble/shard-of-node';

const NODES = Array.from({ length: 5000 }, (_, i) => `ip-10-0-${i >> 8}-${i & 255}.ec2.internal`);

describe('shardOfNode', () => {
  it('puts every node in exactly one shard, the same one on every call', () => {
    for (const count of [1, 2, 3, 7]) {
      const shards = Array.from({ length: count }, (_, i) => nodesOfShard(NODES, count, i));
      expect(shards.flat().sort()).toEqual([...NODES].sort());
      for (const n of NODES.slice(0, 50)) expect(shardOfNode(n, count)).toBe(shardOfNode(n, count));
    }
  });

  it('spreads 5,000 nodes over 10 shards within 15% of an even share', () => {
    const sizes = Array.from({ length: 10 }, (_, i) => nodesOfShard(NODES, 10, i).length);
    for (const size of sizes) expect(Math.abs(size - 500)).toBeLessThan(75);
  });

  it('moves only the nodes the new shard wins when a shard is added', () => {
    const moved = NODES.filter((n) => shardOfNode(n, 4) !== shardOfNode(n, 5));
    expect(moved.every((n) => shardOfNode(n, 5) === 4)).toBe(true);
    expect(moved.length).toBeLessThan(NODES.length * 0.25);
  });

  it('refuses a shard count below 1', () => {
    expect(() => shardOfNode('n', 0)).toThrow('shardCount must be a whole number >= 1, got 0');
  });
});

describe('ordinalOfHostname', () => {
  it("reads a StatefulSet pod's ordinal from its name", () => {
    expect(ordinalOfHostname('hubble-graph-collector-2')).toBe(2);
    expect(ordinalOfHostname('collector-10')).toBe(10);
  });

  it('finds none in a name without a trailing number', () => {
    expect(ordinalOfHostname('hubble-graph-collector')).toBeUndefined();
    expect(ordinalOfHostname('web-7d4b9c-x2k4f')).toBeUndefined();
  });
});
