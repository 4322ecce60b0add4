#!/usr/bin/env node
'use strict';
// First step of `npm test`: makes sure that what the tests need beyond Node and npm is there, so
// that the README's `npm ci && npm test` passes on a fresh machine with nothing typed before it.
// Also the first step of `npm run bench` (its map part drives Chromium), which names itself as the
// first argument so that the messages say what cannot run.
// Tools the tests start (Prometheus; Chromium for the map page's browser tests) are installed from
// Debian's packages when missing and running as root; otherwise the run stops within seconds with
// the exact command to type. Java and Maven are only checked: the machine brings them, and the
// message says what to install when it does not.
//
// Plain JavaScript on purpose: it runs before the TypeScript build, so a missing tool is reported
// in seconds rather than after the type check and build.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/**
 * @typedef {object} TestTool
 * @property {string} command    executable looked up on PATH
 * @property {string} debianPackage  Debian package that provides it
 * @property {string} usedBy     which tests need it (for the messages)
 * @property {string} [service]  a service the package starts on install, stopped right after (the tests start their own)
 */

/**
 * Tools the tests start themselves, installed when missing. Adding one is one line here, e.g.
 * `{ command: 'chromium', debianPackage: 'chromium', usedBy: 'the map page browser tests' }`.
 * @type {readonly TestTool[]}
 */
const TEST_TOOLS = [
  {
    command: 'prometheus',
    debianPackage: 'prometheus',
    service: 'prometheus',
    usedBy: 'test/integration/prometheus (a real Prometheus scraping fake Hubble agents)',
  },
  {
    command: 'chromium',
    debianPackage: 'chromium',
    usedBy: 'test/integration/ui (the map page in a real browser, driven by playwright-core)',
  },
];

/** How long apt-get may wait for another apt-get (a second test run on the machine) to release its lock, in seconds. */
const APT_LOCK_TIMEOUT_S = 300;

/** True when `command` is an executable file on `pathEnv` (or a path to one). */
function findOnPath(command, pathEnv = process.env.PATH ?? '') {
  const candidates = command.includes('/')
    ? [command]
    : pathEnv
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, command));
  for (const file of candidates) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The apt-get command line that installs `packages` (sudo unless root).
 * @param {readonly string[]} packages
 * @param {boolean} isRoot
 */
function aptInstallCommand(packages, isRoot) {
  const sudo = isRoot ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/**
 * Decides what to do about missing test tools (pure).
 * @param {{ missing: readonly TestTool[], isRoot: boolean, hasAptGet: boolean, installAllowed: boolean }} facts
 * @returns {{ action: 'none' } | { action: 'install', packages: string[], services: string[] } | { action: 'fail', message: string }}
 */
function planTestTools({ missing, isRoot, hasAptGet, installAllowed }) {
  if (missing.length === 0) return { action: 'none' };
  const packages = [...new Set(missing.map((t) => t.debianPackage))];
  if (isRoot && hasAptGet && installAllowed) {
    return { action: 'install', packages, services: missing.flatMap((t) => (t.service ? [t.service] : [])) };
  }
  const lines = missing.map((t) => `  ${t.command}: needed by ${t.usedBy}`);
  const how = hasAptGet
    ? `Install ${packages.length > 1 ? 'them' : 'it'} with:\n  ${aptInstallCommand(packages, isRoot)}\n` +
      (isRoot ? '' : '(run as root, `npm test` installs it by itself)\n')
    : `Install the Debian package${packages.length > 1 ? 's' : ''} ${packages.join(', ')} or the same tool${packages.length > 1 ? 's' : ''} from your system's packages, so that ${missing.map((t) => t.command).join(', ')} ${missing.length > 1 ? 'are' : 'is'} on PATH.\n`;
  const why = installAllowed ? '' : 'HG_TEST_INSTALL_TOOLS=0 forbids installing them here.\n';
  return { action: 'fail', message: `The tests need tools that are not on PATH:\n${lines.join('\n')}\n${why}${how}` };
}

/**
 * Checks Java (17 or newer) and Maven, which the local Neo4j of the integration tests needs; they
 * are not installed here, only named. Nothing is needed when NEO4J_URI names a server, and Maven
 * not once the Neo4j jars are in neo4j/target/lib.
 * @param {{ env: NodeJS.ProcessEnv, root: string, run?: (cmd: string, args: string[]) => { error?: Error, status: number | null, output: string } }} options
 * @returns {string[]} problems, each naming what to install
 */
function checkJavaAndMaven({ env, root, run = runQuietly }) {
  if (env.NEO4J_URI) return [];
  const problems = [];
  const java = env.HG_JAVA || (env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java');
  const res = run(java, ['-version']);
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.output);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : 0;
  if (res.error || res.status !== 0) {
    problems.push(
      `Java 17 or newer is needed for the local Neo4j the integration tests start, but "${java} -version" failed (${res.error ? res.error.message : `exit ${res.status}`}). Install it: apt-get install openjdk-17-jre-headless (or set HG_JAVA / JAVA_HOME, or NEO4J_URI to a throwaway Neo4j 5).`,
    );
  } else if (major < 17) {
    problems.push(
      `Neo4j 5 needs Java 17 or newer; "${java}" is Java ${major || 'of unknown version'}. Install it: apt-get install openjdk-17-jre-headless (or set HG_JAVA / JAVA_HOME).`,
    );
  }
  if (!fs.existsSync(path.join(root, 'neo4j', 'target', 'lib', '.complete'))) {
    const mvn = env.HG_MVN || 'mvn';
    const mv = run(mvn, ['-v']);
    if (mv.error || mv.status !== 0) {
      problems.push(
        `Maven is needed once to fetch the Neo4j jars, but "${mvn} -v" failed (${mv.error ? mv.error.message : `exit ${mv.status}`}). Install it: apt-get install maven (or set HG_MVN, or NEO4J_URI to a throwaway Neo4j 5).`,
      );
    }
  }
  return problems;
}

function runQuietly(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { error: res.error, status: res.status, output: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

/** Runs a command with its output shown; throws with the command line when it fails. */
function runLoudly(cmd, args, env) {
  process.stderr.write(`ensure-test-tools: ${cmd} ${args.join(' ')}\n`);
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (res.error || res.status !== 0) {
    throw new Error(`"${cmd} ${args.join(' ')}" failed (${res.error ? res.error.message : `exit ${res.status}`})`);
  }
}

/** Stops a service that a package started on install (systemd, else the init script). */
function stopService(name) {
  if (fs.existsSync('/run/systemd/system') && findOnPath('systemctl')) {
    spawnSync('systemctl', ['stop', name], { stdio: 'ignore' });
  } else if (fs.existsSync(`/etc/init.d/${name}`)) {
    spawnSync(`/etc/init.d/${name}`, ['stop'], { stdio: 'ignore' });
  }
}

function main() {
  const env = process.env;
  const runner = process.argv[2] ?? 'npm test';
  const problems = checkJavaAndMaven({ env, root: path.resolve(__dirname, '..') });
  const missing = TEST_TOOLS.filter((t) => !findOnPath(t.command));
  const plan = planTestTools({
    missing,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasAptGet: findOnPath('apt-get') !== undefined,
    installAllowed: env.HG_TEST_INSTALL_TOOLS !== '0',
  });
  if (plan.action === 'fail') problems.push(plan.message);
  if (problems.length > 0) {
    process.stderr.write(`\n${runner} cannot run yet:\n\n${problems.join('\n\n')}\n`);
    return 1;
  }
  if (plan.action === 'install') {
    process.stderr.write(
      `ensure-test-tools: installing ${plan.packages.join(' ')} from Debian's packages (missing on PATH, needed by the tests)\n`,
    );
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    const lock = `-oDPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_S}`;
    try {
      runLoudly('apt-get', [lock, 'update', '-qq'], aptEnv);
      runLoudly('apt-get', [lock, 'install', '-y', '-qq', '--no-install-recommends', ...plan.packages], aptEnv);
    } catch (err) {
      process.stderr.write(
        `\n${runner} cannot run yet: installing ${plan.packages.join(' ')} failed: ${err.message}\nInstall by hand: ${aptInstallCommand(plan.packages, true)}\n`,
      );
      return 1;
    }
    // The Debian package of Prometheus starts a server of its own on :9090; the tests start theirs.
    for (const service of plan.services) stopService(service);
    const still = missing.filter((t) => !findOnPath(t.command));
    if (still.length > 0) {
      process.stderr.write(
        `\n${runner} cannot run yet: ${still.map((t) => t.command).join(', ')} still not on PATH after installing ${plan.packages.join(' ')}\n`,
      );
      return 1;
    }
  }
  return 0;
}

module.exports = { TEST_TOOLS, findOnPath, aptInstallCommand, planTestTools, checkJavaAndMaven };

if (require.main === module) process.exitCode = main();
