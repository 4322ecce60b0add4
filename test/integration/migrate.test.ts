import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationError } from '../../src/errors';
import type { Executor } from '../../src/graph/executor';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { migrate, readMigrations } from '../../src/graph/migrate';
import { silentLogger } from '../../src/logger';
import { CLI } from '../helpers/cli';
import { waitFor } from '../helpers/ground-truth';
import { testEnv, testExecutor } from '../helpers/neo4j';

const execFileAsync = promisify(execFile);

/**
 * These tests own the Migration records while they run: they start from none, use a scratch folder
 * of migrations, and put the shipped migrations back at the end.
 */
describe('migrate (real Neo4j)', () => {
  let executor: Executor;
  let dir: string;

  const indexNames = async () => (await executor.read<{ name: string }>('SHOW INDEXES YIELD name RETURN name')).map((r) => r.name);

  const clearMigrations = async () => {
    await executor.write('MATCH (m:Migration) DETACH DELETE m');
    for (const name of ['hg_test_a', 'hg_test_b']) await executor.autoCommit(`DROP INDEX ${name} IF EXISTS`);
  };

  beforeAll(async () => {
    executor = testExecutor();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-migrations-'));
  });

  beforeEach(async () => {
    await clearMigrations();
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    fs.writeFileSync(path.join(dir, '0001-a.cypher'), 'CREATE INDEX hg_test_a IF NOT EXISTS FOR (n:HgTestA) ON (n.x);\n');
    fs.writeFileSync(path.join(dir, '0002-b.cypher'), 'CREATE INDEX hg_test_b IF NOT EXISTS FOR (n:HgTestB) ON (n.y);\n');
  });

  afterAll(async () => {
    await clearMigrations();
    await migrate(executor, silentLogger());
    await executor.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies migrations in order and records each with its checksum', async () => {
    const res = await migrate(executor, silentLogger(), { dir });
    expect(res.applied).toEqual(['0001-a.cypher', '0002-b.cypher']);
    expect(await indexNames()).toEqual(expect.arrayContaining(['hg_test_a', 'hg_test_b']));
    const rows = await executor.read<{ version: number; checksum: string; state: string }>(
      'MATCH (m:Migration) RETURN m.version AS version, m.checksum AS checksum, m.state AS state ORDER BY version',
    );
    expect(rows.map((r) => [r.version, r.state])).toEqual([
      [1, 'applied'],
      [2, 'applied'],
    ]);
    expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes nothing when run a second time', async () => {
    await migrate(executor, silentLogger(), { dir });
    const again = await migrate(executor, silentLogger(), { dir });
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toHaveLength(2);
    expect((await executor.read<{ n: number }>('MATCH (m:Migration) RETURN count(m) AS n'))[0]!.n).toBe(2);
  });

  it('refuses a migration edited after it was applied, naming the file', async () => {
    await migrate(executor, silentLogger(), { dir });
    fs.writeFileSync(path.join(dir, '0001-a.cypher'), 'CREATE INDEX hg_test_a IF NOT EXISTS FOR (n:HgTestA) ON (n.z);\n');
    await expect(migrate(executor, silentLogger(), { dir })).rejects.toThrow(MigrationError);
    await expect(migrate(executor, silentLogger(), { dir })).rejects.toThrow(/0001-a\.cypher.*changed after it was applied/);
  });

  it('renews its claim while a long statement runs, so that a process started meanwhile waits instead of applying it again', async () => {
    // The statement waits for a lock this test holds, as long as a backfill of a large store runs.
    fs.writeFileSync(path.join(dir, '0003-slow.cypher'), 'MATCH (n:HgTestLock) SET n.applied = coalesce(n.applied, 0) + 1;\n');
    await executor.write('MERGE (n:HgTestLock) SET n.applied = 0');
    const session = executor.driver.session();
    const holder = session.beginTransaction();
    try {
      await holder.run('MATCH (n:HgTestLock) SET n.held = true');
      const options = { dir, staleClaimMs: 5000, waitMs: 30_000 };
      const first = migrate(executor, silentLogger(), options);
      await waitFor(
        'the first process to claim migration 3',
        () => executor.read("MATCH (m:Migration {version: 3, state: 'applying'}) RETURN m"),
        (rows) => rows.length === 1,
        10_000,
      );
      // Twice the stale interval: without renewals, the claim would be taken over now.
      await new Promise((r) => setTimeout(r, 10_000));
      const second = migrate(executor, silentLogger(), options);
      await new Promise((r) => setTimeout(r, 2000));
      await holder.rollback();
      const [a, b] = await Promise.all([first, second]);
      expect(a.applied).toEqual(['0001-a.cypher', '0002-b.cypher', '0003-slow.cypher']);
      expect(b.applied).toEqual([]);
      expect(b.alreadyApplied).toEqual(['0001-a.cypher', '0002-b.cypher', '0003-slow.cypher']);
      expect((await executor.read<{ applied: number }>('MATCH (n:HgTestLock) RETURN n.applied AS applied'))[0]?.applied).toBe(1);
    } finally {
      await session.close();
      await executor.write('MATCH (n:HgTestLock) DELETE n');
    }
  }, 60_000);

  it('applies each migration once when two processes migrate at the same time', async () => {
    const shipped = readMigrations();
    const run = () => execFileAsync(process.execPath, [CLI, 'migrate'], { env: testEnv() });
    const outputs = await Promise.all([run(), run(), run()]);
    const appliedCounts = outputs.map((o) => Number(/applied (\d+)/.exec(o.stdout)?.[1]));
    expect(appliedCounts.reduce((a, b) => a + b, 0)).toBe(shipped.length);
    const rows = await executor.read<{ version: number }>(
      "MATCH (m:Migration {state: 'applied'}) RETURN m.version AS version ORDER BY version",
    );
    expect(rows.map((r) => r.version)).toEqual(shipped.map((m) => m.version));
  });
});
