import { createDriver } from '../../../src/graph/driver';
import { Executor } from '../../../src/graph/executor';
import { testConfig } from '../../helpers/neo4j';
import { socketWritesDuring } from '../../helpers/socket-writes';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy';

/**
 * Executor.read, the path of every single-statement read of the API and the collector: one Bolt
 * request per read (an auto-commit statement instead of BEGIN, RUN and COMMIT), and transient
 * failures retried as a read transaction's are.
 */
describe('Executor.read (real Neo4j)', () => {
  const cfg = testConfig();
  let proxy: TcpProxy | undefined;
  let executor: Executor | undefined;

  beforeAll(async () => {
    const bolt = new URL(cfg.neo4j.uri!);
    proxy = await startTcpProxy({ host: bolt.hostname, port: Number(bolt.port) });
    executor = new Executor(createDriver(`bolt://127.0.0.1:${proxy.port}`, cfg.neo4j), {
      database: cfg.neo4j.database,
      queryTimeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await executor?.close();
    await proxy?.close();
  });

  it('sends a read as one request, where a read transaction sends three', async () => {
    const ex = executor!;
    await ex.read('RETURN 1 AS x'); // the connection is open and in the pool
    const reads = await socketWritesDuring(proxy!.port, async () => {
      for (let i = 0; i < 10; i++) expect(await ex.read<{ x: number }>('RETURN $i AS x', { i })).toEqual([{ x: i }]);
    });
    const transactions = await socketWritesDuring(proxy!.port, async () => {
      for (let i = 0; i < 10; i++) await ex.readTx((tx) => tx.run('RETURN $i AS x', { i }));
    });
    expect(reads).toBe(10);
    expect(transactions).toBe(30);
  });

  it('retries a read while Neo4j is briefly unreachable, and answers once it is back', async () => {
    await proxy!.cut();
    const answer = executor!.read<{ x: number }>('RETURN 42 AS x');
    await new Promise((r) => setTimeout(r, 700));
    await proxy!.restore();
    await expect(answer).resolves.toEqual([{ x: 42 }]);
  });

  it('does not retry what a retry cannot mend: a wrong statement fails at once, naming the problem', async () => {
    const started = Date.now();
    await expect(executor!.read('RETURN nope AS x')).rejects.toThrow(/Variable `nope` not defined/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
