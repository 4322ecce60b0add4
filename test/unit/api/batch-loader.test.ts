import { BatchLoader } from '../../../src/api/batch-loader';

/** A loader whose loads are recorded; it knows the keys that start with `k`. */
function recordingLoader() {
  const batches: string[][] = [];
  const loader = new BatchLoader<string | null>(async (keys) => {
    batches.push([...keys]);
    return new Map(keys.filter((k) => k.startsWith('k')).map((k) => [k, `value of ${k}`]));
  }, null);
  return { loader, batches };
}

describe('BatchLoader', () => {
  it('loads the keys that sibling resolvers ask for in one call, each key once, and answers every waiter', async () => {
    const { loader, batches } = recordingLoader();
    // As GraphQL resolves a list: the items' resolvers run once their parent's promise is settled,
    // some after awaiting something of their own.
    const values = await Promise.resolve(['k1', 'k2', 'k1', 'x9']).then((keys) =>
      Promise.all(
        keys.map(async (k, i) => {
          if (i % 2 === 1) await Promise.resolve();
          return loader.load(k);
        }),
      ),
    );
    expect(values).toEqual(['value of k1', 'value of k2', 'value of k1', null]);
    expect(batches).toEqual([['k1', 'k2', 'x9']]);
  });

  it('starts a new batch for keys asked after one was sent', async () => {
    const { loader, batches } = recordingLoader();
    await loader.load('k1');
    await Promise.all([loader.load('k2'), loader.load('k3')]);
    expect(batches).toEqual([['k1'], ['k2', 'k3']]);
  });

  it('rejects every waiter of a batch whose load fails, and loads the next batch again', async () => {
    let fail = true;
    const loader = new BatchLoader<number>(async (keys) => {
      if (fail) throw new Error('Neo4j unavailable');
      return new Map(keys.map((k) => [k, k.length]));
    }, 0);
    const failed = await Promise.allSettled([loader.load('a'), loader.load('bb')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await Promise.all([loader.load('a'), loader.load('bb')])).toEqual([1, 2]);
  });
});
