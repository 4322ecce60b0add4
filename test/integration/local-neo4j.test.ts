import fs from 'node:fs';
import net from 'node:net';
import { runCli } from '../helpers/cli';
import { testEnv } from '../helpers/neo4j';
import { freePort } from '../helpers/prometheus';

/** The CLI's handling of the local Neo4j that global-setup started, and of an unreachable one. */
describe('hubble-graph neo4j and connection errors', () => {
  const localEnv = () =>
    testEnv({
      NEO4J_URI: '',
      HG_NEO4J_HOME: process.env.HG_TEST_LOCAL_NEO4J_HOME ?? '',
      HG_NEO4J_BOLT_PORT: process.env.HG_TEST_LOCAL_NEO4J_PORT ?? '',
      HG_NEO4J_HTTP_PORT: '0',
    });
  const usesLocal = () => Boolean(process.env.HG_TEST_LOCAL_NEO4J_HOME);
  // With NEO4J_URI given there is no local server to look at: these are reported as skipped, not passed.
  const itWithLocalNeo4j = usesLocal() ? it : it.skip;

  itWithLocalNeo4j('reports the running local Neo4j with status, and a second start finds it', async () => {
    const status = await runCli(['neo4j', 'status'], localEnv());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, boltUri: `bolt://127.0.0.1:${process.env.HG_TEST_LOCAL_NEO4J_PORT}` });
    const again = await runCli(['neo4j', 'start'], localEnv());
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already running/);
  });

  itWithLocalNeo4j('keeps the password off the launcher command line and out of its environment', async () => {
    const status = await runCli(['neo4j', 'status'], localEnv());
    const { pid } = JSON.parse(status.stdout) as { pid: number };
    const password = process.env.NEO4J_PASSWORD ?? '';
    expect(password.length).toBeGreaterThanOrEqual(8);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('Launcher.java'); // the right process
    expect(cmdline).not.toContain(password);
    expect(fs.readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(password);
    // ...and Neo4j still has it: the driver logs in with it.
    const res = await runCli(['cypher', 'RETURN 1 AS one'], localEnv());
    expect(res.stdout.trim()).toBe('{"one":1}');
  });

  it('lets Neo4j Browser load guides and styles from the loopback addresses the API serves them on', async () => {
    const res = await runCli(
      ['cypher', "SHOW SETTINGS YIELD name, value WHERE name = 'browser.remote_content_hostname_whitelist' RETURN value"],
      testEnv(),
    );
    expect(res.code).toBe(0);
    const hosts = String(JSON.parse(res.stdout).value).split(',');
    if (usesLocal()) expect(hosts).toEqual(expect.arrayContaining(['localhost', '127.0.0.1']));
    else expect(hosts.length).toBeGreaterThan(0); // a server of your own keeps its own setting
  });

  it('shows the model constraints after migrate, through the cypher command', async () => {
    const migrate = await runCli(['migrate'], testEnv());
    expect(migrate.code).toBe(0);
    const res = await runCli(['cypher', 'SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name'], testEnv());
    expect(res.code).toBe(0);
    const names = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).name);
    expect(names).toEqual(expect.arrayContaining(['endpoint_id', 'calls_key', 'collector_id', 'migration_version']));
  });

  it('passes parameters to cypher and refuses writes', async () => {
    const ok = await runCli(['cypher', 'RETURN $n + 1 AS n, $s AS s', '--param', 'n=41', '--param', 's=pod'], testEnv());
    expect(ok.stdout.trim()).toBe('{"n":42,"s":"pod"}');
    const write = await runCli(['cypher', 'CREATE (x:HgShouldNotExist) RETURN x'], testEnv());
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/read/i);
  });

  it('names the URI and the cause when Neo4j is not reachable, without a stack trace', async () => {
    const res = await runCli(['cypher', 'RETURN 1'], testEnv({ NEO4J_URI: 'bolt://127.0.0.1:1', HG_NEO4J_CONNECT_TIMEOUT: '1s' }));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('bolt://127.0.0.1:1');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('says which port is taken instead of hanging', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const res = await runCli(
        ['neo4j', 'start'],
        testEnv({ NEO4J_URI: '', HG_NEO4J_HOME: '.data/neo4j-port-test', HG_NEO4J_BOLT_PORT: String(port), HG_NEO4J_HTTP_PORT: '0' }),
      );
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`port ${port}`);
    } finally {
      server.close();
    }
  });

  it('lists every invalid setting and exits non-zero', async () => {
    const res = await runCli(['migrate'], testEnv({ NEO4J_URI: 'ftp://x', HG_NEO4J_QUERY_TIMEOUT: 'later' }));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('NEO4J_URI');
    expect(res.stderr).toContain('HG_NEO4J_QUERY_TIMEOUT');
  });
});

describe('missing Java', () => {
  it('says what to install, or to set NEO4J_URI', async () => {
    const res = await runCli(
      ['neo4j', 'start'],
      testEnv({
        NEO4J_URI: '',
        HG_NEO4J_HOME: '.data/neo4j-nojava-test',
        HG_NEO4J_BOLT_PORT: String(await freePort()),
        HG_NEO4J_HTTP_PORT: '0',
        HG_JAVA: '/nonexistent/java',
      }),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Java is needed/);
    expect(res.stderr).toMatch(/NEO4J_URI/);
  });
});
