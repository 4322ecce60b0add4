import { type Executor, statementPipeline } from '../../../src/graph/executor';
import { testExecutor } from '../../helpers/neo4j';

/** A statement Neo4j refuses when it runs: a map is not a property value. */
const REFUSED = 'CREATE (n:PipelineProbe {id: $id}) SET n.bad = {a: 1} RETURN n.id AS id';
const WRITE = 'CREATE (n:PipelineProbe {id: $id}) RETURN n.id AS id';

describe('statements sent before the rows of the ones before are read (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = testExecutor();
  });
  afterAll(async () => {
    await executor.write('MATCH (n:PipelineProbe) DELETE n');
    await executor.close();
  });

  it('runs them in the order sent, each seeing what the ones before wrote, and commits them together', async () => {
    const ids = await executor.writeTx(async (tx) => {
      const pipe = statementPipeline(tx);
      const first = pipe.send<{ id: string }>(WRITE, { id: 'p1' });
      const second = pipe.send<{ id: string }>(WRITE, { id: 'p2' });
      const seen = pipe.send<{ ids: string[] }>("MATCH (n:PipelineProbe) WHERE n.id IN ['p1', 'p2'] RETURN collect(n.id) AS ids");
      return { first: await first, second: await second, seen: await seen };
    });
    expect(ids.first).toEqual([{ id: 'p1' }]);
    expect(ids.second).toEqual([{ id: 'p2' }]);
    expect([...(ids.seen[0]?.ids ?? [])].sort()).toEqual(['p1', 'p2']);
    const stored = await executor.read<{ id: string }>("MATCH (n:PipelineProbe) WHERE n.id IN ['p1', 'p2'] RETURN n.id AS id ORDER BY id");
    expect(stored).toEqual([{ id: 'p1' }, { id: 'p2' }]);
  });

  it('names the first statement that failed, not the one the writer read, and commits nothing', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    let readError: unknown;
    try {
      const write = executor.writeTx(async (tx) => {
        const pipe = statementPipeline(tx);
        pipe.send(WRITE, { id: 'q1' });
        const refused = pipe.send(REFUSED, { id: 'q2' });
        pipe.send(WRITE, { id: 'q3' }); // sent before the failure is known: never read
        await refused.catch(() => undefined);
        // Sent once the transaction has failed: its error only says that it did.
        const late = pipe.send(WRITE, { id: 'q4' });
        try {
          await late;
          return 'committed';
        } catch (err) {
          readError = err;
          throw await pipe.firstFailure(err);
        }
      });
      const thrown: unknown = await write.catch((e: unknown) => e);
      expect(thrown).toMatchObject({ code: expect.stringMatching(/^Neo\.ClientError\.Statement\./) });
      expect(readError).not.toMatchObject({ code: expect.stringMatching(/^Neo\.ClientError\.Statement\./) });
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    const stored = await executor.read<{ n: number }>(
      "MATCH (n:PipelineProbe) WHERE n.id IN ['q1', 'q2', 'q3', 'q4'] RETURN count(n) AS n",
    );
    expect(stored).toEqual([{ n: 0 }]);
  });
});
