import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { TEST_TOOLS, checkJavaAndMaven, planTestTools, type TestTool } from '../../scripts/ensure-test-tools';

const prometheus: TestTool = { command: 'prometheus', debianPackage: 'prometheus', service: 'prometheus', usedBy: 'the Prometheus tests' };
const chromium: TestTool = { command: 'chromium', debianPackage: 'chromium', usedBy: 'the browser tests' };

describe('planTestTools', () => {
  it('does nothing when every tool is on PATH', () => {
    expect(planTestTools({ missing: [], isRoot: false, hasAptGet: true, installAllowed: true })).toEqual({ action: 'none' });
  });

  it('installs every missing tool in one apt-get run as root, and stops the services their packages start', () => {
    expect(planTestTools({ missing: [prometheus, chromium], isRoot: true, hasAptGet: true, installAllowed: true })).toEqual({
      action: 'install',
      packages: ['prometheus', 'chromium'],
      services: ['prometheus'],
    });
  });

  it('names the exact sudo apt-get command when not root', () => {
    const plan = planTestTools({ missing: [prometheus], isRoot: false, hasAptGet: true, installAllowed: true });
    expect(plan.action).toBe('fail');
    expect(plan.action === 'fail' && plan.message).toContain(
      'sudo apt-get update && sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus',
    );
    expect(plan.action === 'fail' && plan.message).toContain('prometheus: needed by the Prometheus tests');
  });

  it('names the command without installing when installing is turned off', () => {
    const plan = planTestTools({ missing: [prometheus], isRoot: true, hasAptGet: true, installAllowed: false });
    expect(plan).toMatchObject({ action: 'fail', message: expect.stringContaining('HG_TEST_INSTALL_TOOLS=0') });
    expect(plan.action === 'fail' && plan.message).toContain('apt-get install -y --no-install-recommends prometheus');
  });

  it('names the package when the machine has no apt-get', () => {
    const plan = planTestTools({ missing: [prometheus], isRoot: true, hasAptGet: false, installAllowed: true });
    expect(plan).toMatchObject({ action: 'fail', message: expect.stringContaining('Debian package prometheus') });
  });

  it('lists Prometheus and Chromium among the tools the tests install', () => {
    expect(TEST_TOOLS.map((t) => t.command)).toContain('prometheus');
    expect(TEST_TOOLS.map((t) => t.command)).toContain('chromium');
  });
});

describe('checkJavaAndMaven', () => {
  const java17 = { status: 0, output: 'openjdk version "17.0.15" 2025-04-15' };
  const ok = { status: 0, output: 'Apache Maven 3.8.7' };
  const enoent = { error: new Error('spawnSync mvn ENOENT'), status: null, output: '' };
  const root = '/nonexistent-project-root';

  it('accepts Java 17 and Maven', () => {
    expect(checkJavaAndMaven({ env: {}, root, run: (cmd) => (cmd === 'java' ? java17 : ok) })).toEqual([]);
  });

  it('names the Debian packages for a missing java and mvn', () => {
    const problems = checkJavaAndMaven({ env: {}, root, run: () => enoent });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('apt-get install openjdk-17-jre-headless');
    expect(problems[1]).toContain('apt-get install maven');
  });

  it('refuses Java 11 naming the version it found', () => {
    const problems = checkJavaAndMaven({
      env: {},
      root,
      run: (cmd) => (cmd === 'java' ? { status: 0, output: 'openjdk version "11.0.2"' } : ok),
    });
    expect(problems).toEqual([expect.stringContaining('is Java 11')]);
  });

  it('needs neither when NEO4J_URI names a server', () => {
    expect(checkJavaAndMaven({ env: { NEO4J_URI: 'bolt://db:7687' }, root, run: () => enoent })).toEqual([]);
  });

  it('uses HG_JAVA when it is set', () => {
    const asked: string[] = [];
    checkJavaAndMaven({ env: { HG_JAVA: '/opt/jdk/bin/java' }, root, run: (cmd) => (asked.push(cmd), cmd.endsWith('java') ? java17 : ok) });
    expect(asked[0]).toBe('/opt/jdk/bin/java');
  });
});

describe('the script', () => {
  const script = path.join(__dirname, '..', '..', 'scripts', 'ensure-test-tools.js');
  // A Java that is not there: the script stops at once, naming what cannot run.
  const run = (...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HG_JAVA: '/nonexistent/bin/java', HG_TEST_INSTALL_TOOLS: '0' };
    delete env.NEO4J_URI;
    return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env });
  };

  it('says that npm test cannot run yet by default', () => {
    const res = run();
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('npm test cannot run yet');
    expect(res.stderr).toContain('/nonexistent/bin/java');
  });

  it('names the command it runs for (npm run bench)', () => {
    const res = run('npm run bench');
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('npm run bench cannot run yet');
    expect(res.stderr).not.toContain('npm test cannot run yet');
  });
});
