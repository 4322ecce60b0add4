import { GraphVersionCache } from '../../../src/api/graph-version-cache';

describe('GraphVersionCache', () => {
  it('reuses a result while the graph version is the same and recomputes when it moves', async () => {
    const cache = new GraphVersionCache();
    let computed = 0;
    const compute = async () => ++computed;
    expect(await cache.get('map', '7|t1', compute)).toBe(1);
    expect(await cache.get('map', '7|t1', compute)).toBe(1);
    expect(await cache.get('map', '8|t2', compute)).toBe(2);
    expect(await cache.get('other', '8|t2', compute)).toBe(3);
    expect([cache.hits, cache.misses]).toEqual([1, 3]);
  });

  it('keeps at most maxEntries results, dropping the oldest', async () => {
    const cache = new GraphVersionCache(2);
    let computed = 0;
    const compute = async () => ++computed;
    await cache.get('a', 'v', compute);
    await cache.get('b', 'v', compute);
    await cache.get('c', 'v', compute);
    expect(await cache.get('a', 'v', compute)).toBe(4);
  });
});
