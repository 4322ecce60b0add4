import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, runCli } from '../helpers/cli';
import { testEnv } from '../helpers/neo4j';
import { freePort } from '../helpers/prometheus';

/** The CLI as a person pipes and runs it: `| head`, and a local Neo4j that is not running. */
describe('hubble-graph output', () => {
  it('exits quietly with 0 when the reader of its output goes away (cypher ... | head)', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const child = spawn(process.execPath, [CLI, 'cypher', 'UNWIND range(1, 200000) AS n RETURN n'], {
        env: testEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // Like `head -1`: read the first chunk, then close the pipe while the command still writes.
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      // Nothing on stderr: no stack of a write error (EPIPE from a pipe, ECONNRESET from this socket pair).
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    }
  });

  it('prints the version of package.json for --version and -V, and exits 0', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V'])
      expect(await runCli([flag], testEnv())).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('fails at once with the command to start the local Neo4j when it is not running', async () => {
    const port = String(await freePort());
    const res = await runCli(
      ['cypher', 'RETURN 1'],
      testEnv({
        NEO4J_URI: '',
        HG_NEO4J_HOME: '.data/neo4j-not-started',
        HG_NEO4J_BOLT_PORT: port,
        HG_NEO4J_HTTP_PORT: '0',
        HG_NEO4J_CONNECT_TIMEOUT: '60s',
      }),
      20_000,
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('npx hubble-graph neo4j start');
    expect(res.stderr).toContain(`bolt://127.0.0.1:${port}`);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('hubble-graph generate', () => {
  it('draws edges along workload dependencies with --edge-shape workloads, and refuses an unknown shape naming it', async () => {
    const callsOf = async (args: string[]) => {
      const res = await runCli(
        ['generate', '--pods', '60', '--edges', '300', '--flows', '3000', '--seed', '4', '--out', '/dev/null', ...args],
        testEnv(),
      );
      expect(res.code).toBe(0);
      return res;
    };
    const truthFile = (name: string) => path.join(fs.mkdtempSync('/tmp/hg-generate-'), name);
    const [byPods, byWorkloads] = [truthFile('pods.json'), truthFile('workloads.json')];
    await callsOf(['--truth', byPods]);
    await callsOf(['--edge-shape', 'workloads', '--truth', byWorkloads]);
    const keys = (file: string) =>
      (JSON.parse(fs.readFileSync(file, 'utf8')) as { calls: { key: string }[] }).calls.map((c) => c.key).sort();
    expect(keys(byWorkloads)).not.toEqual(keys(byPods));
    const res = await runCli(['generate', '--pods', '6', '--edges', '8', '--flows', '10', '--edge-shape', 'nodes'], testEnv());
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('--edge-shape expects pods or workloads, got "nodes"');
  });
});
