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

describe('GraphVersionCache with a maximum age (HG_API_MAP_MAX_AGE)', () => {
  it('reuses a result computed less than maxAgeMs ago whatever the version, and computes again once it is older', async () => {
    let nowMs = 1_000;
    const cache = new GraphVersionCache(8, 5_000, () => nowMs);
    let computed = 0;
    const compute = async () => ++computed;
    expect(await cache.get('map', 'v1', compute)).toBe(1);
    nowMs += 4_999;
    expect(await cache.get('map', 'v2', compute)).toBe(1);
    nowMs += 1;
    expect(await cache.get('map', 'v3', compute)).toBe(2);
    // Stored again at v3: the same version is a hit at any age.
    nowMs += 60_000;
    expect(await cache.get('map', 'v3', compute)).toBe(2);
  });

  it('without a maximum age, any other version computes again at once', async () => {
    const cache = new GraphVersionCache(8, 0, () => 0);
    let computed = 0;
    const compute = async () => ++computed;
    await cache.get('map', 'v1', compute);
    expect(await cache.get('map', 'v2', compute)).toBe(2);
  });
});

describe('GraphVersionCache, requests at the same time', () => {
  it('computes once for requests that miss on the same key and version together', async () => {
    const cache = new GraphVersionCache();
    let computed = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      computed++;
      await gate;
      return computed;
    };
    const answers = Promise.all([cache.get('map', 'v1', compute), cache.get('map', 'v1', compute), cache.get('map', 'v1', compute)]);
    release();
    expect(await answers).toEqual([1, 1, 1]);
    expect([computed, cache.hits, cache.misses]).toEqual([1, 2, 1]);
    // Another version of the same key is computed on its own.
    expect(await cache.get('map', 'v2', compute)).toBe(2);
  });

  it('does not keep a failed computation: the next request computes again', async () => {
    const cache = new GraphVersionCache();
    let calls = 0;
    const failing = async (): Promise<number> => {
      calls++;
      throw new Error('Neo4j unavailable');
    };
    const first = cache.get('map', 'v1', failing);
    const second = cache.get('map', 'v1', failing);
    await expect(first).rejects.toThrow('Neo4j unavailable');
    await expect(second).rejects.toThrow('Neo4j unavailable');
    expect(calls).toBe(1);
    expect(await cache.get('map', 'v1', async () => 7)).toBe(7);
  });
});
