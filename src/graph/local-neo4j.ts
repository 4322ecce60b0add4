import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { LocalNeo4jConfig, Neo4jConfig } from '../config';
import { PROJECT_ROOT } from '../config';
import { EnvironmentError, errorMessage } from '../errors';
import type { Logger } from '../logger';
import { createDriver, verifyNeo4j } from './driver';

/**
 * The local Neo4j Community server: jars assembled from Maven Central by neo4j/pom.xml, started by
 * neo4j/Launcher.java as a process of its own, with its data under `local.home`.
 */
const NEO4J_DIR = path.join(PROJECT_ROOT, 'neo4j');
const LIB_DIR = path.join(NEO4J_DIR, 'target', 'lib');
const LIB_MARKER = path.join(LIB_DIR, '.complete');

export interface LocalNeo4jStatus {
  readonly running: boolean;
  readonly pid?: number;
  readonly boltUri: string;
  readonly browserUrl?: string;
  readonly home: string;
}

interface PidFile {
  pid: number;
  host: string;
  boltPort: number;
  httpPort: number;
}

function pidFilePath(cfg: LocalNeo4jConfig): string {
  return path.join(cfg.home, 'run', 'hubble-graph-neo4j.json');
}

function launcherLogPath(cfg: LocalNeo4jConfig): string {
  return path.join(cfg.home, 'logs', 'launcher.log');
}

function readPidFile(cfg: LocalNeo4jConfig): PidFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(pidFilePath(cfg), 'utf8')) as PidFile;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function boltUriOf(cfg: LocalNeo4jConfig): string {
  return `bolt://${cfg.host}:${cfg.boltPort}`;
}

/**
 * Hosts from which Neo4j Browser may load guides and styles (`:play URL`, `:guide URL`, `:style URL`):
 * Neo4j's defaults plus the loopback names, where `npm start` serves hubble-graph's guide and style.
 */
export function remoteContentHostsOf(cfg: LocalNeo4jConfig): string[] {
  return [...new Set(['guides.neo4j.com', 'localhost', '127.0.0.1', cfg.host])];
}

function browserUrlOf(cfg: LocalNeo4jConfig): string | undefined {
  return cfg.httpPort > 0 ? `http://${cfg.host}:${cfg.httpPort}/browser/` : undefined;
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function javaExecutable(cfg: LocalNeo4jConfig): string {
  return cfg.java ?? 'java';
}

/** Checks that Java 17 or newer is there, with a message saying what to install otherwise. */
export function checkJava(cfg: LocalNeo4jConfig): number {
  const java = javaExecutable(cfg);
  const res = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new EnvironmentError(
      `Java is needed to run the local Neo4j, but "${java} -version" failed (${res.error ? errorMessage(res.error) : `exit ${res.status}`}). ` +
        'Install a JDK 17 or newer (apt-get install openjdk-17-jre-headless), set HG_JAVA or JAVA_HOME, or set NEO4J_URI to use an existing Neo4j.',
    );
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.stderr + res.stdout);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) {
    throw new EnvironmentError(
      `Neo4j 5 needs Java 17 or newer; "${java}" is Java ${major || 'of unknown version'}. Set HG_JAVA or JAVA_HOME, or NEO4J_URI.`,
    );
  }
  return major;
}

/** Fetches the Neo4j jars through Maven unless a complete set is already there. */
export function ensureNeo4jJars(cfg: LocalNeo4jConfig, log: Logger): string {
  if (fs.existsSync(LIB_MARKER)) return LIB_DIR;
  log.info(
    { pom: path.join(NEO4J_DIR, 'pom.xml'), into: LIB_DIR },
    'first run: downloading Neo4j Community jars through Maven (later runs reuse them)',
  );
  process.stderr.write('hubble-graph: first run: downloading Neo4j Community jars through Maven (about 140 MB, once)...\n');
  const res = spawnSync(cfg.mvn, ['-q', '-B', '-f', path.join(NEO4J_DIR, 'pom.xml'), 'dependency:copy-dependencies'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.error) {
    throw new EnvironmentError(
      `Maven is needed to fetch Neo4j the first time, but "${cfg.mvn}" could not run (${errorMessage(res.error)}). ` +
        'Install it (apt-get install maven), set HG_MVN, or set NEO4J_URI to use an existing Neo4j.',
    );
  }
  if (res.status !== 0) {
    throw new EnvironmentError(`Maven could not fetch the Neo4j jars (exit ${res.status}):\n${(res.stdout + res.stderr).slice(-2000)}`);
  }
  fs.writeFileSync(LIB_MARKER, new Date().toISOString());
  return LIB_DIR;
}

/** Reports whether the local Neo4j of this home is running. */
export async function localNeo4jStatus(cfg: LocalNeo4jConfig): Promise<LocalNeo4jStatus> {
  const pf = readPidFile(cfg);
  const running = pf !== undefined && isAlive(pf.pid) && (await isPortOpen(pf.host, pf.boltPort));
  return {
    running,
    pid: running ? pf?.pid : undefined,
    boltUri: pf ? `bolt://${pf.host}:${pf.boltPort}` : boltUriOf(cfg),
    browserUrl: pf && pf.httpPort > 0 ? `http://${pf.host}:${pf.httpPort}/browser/` : browserUrlOf(cfg),
    home: cfg.home,
  };
}

function tailOf(file: string, chars = 3000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-chars);
  } catch {
    return '';
  }
}

/**
 * Starts the local Neo4j (or finds the one already running for this home) and returns once Bolt
 * answers with the configured credentials.
 */
export async function startLocalNeo4j(
  cfg: LocalNeo4jConfig,
  auth: Neo4jConfig,
  log: Logger,
): Promise<LocalNeo4jStatus & { started: boolean }> {
  const current = await localNeo4jStatus(cfg);
  if (current.running) {
    log.info({ neo4jPid: current.pid, bolt: current.boltUri }, 'local Neo4j already running');
    return { ...current, started: false };
  }
  for (const port of [cfg.boltPort, cfg.httpPort].filter((p) => p > 0)) {
    if (await isPortOpen(cfg.host, port)) {
      throw new EnvironmentError(
        `port ${port} on ${cfg.host} is already taken by another process; stop it, or choose other ports with HG_NEO4J_BOLT_PORT / HG_NEO4J_HTTP_PORT`,
      );
    }
  }
  checkJava(cfg);
  const lib = ensureNeo4jJars(cfg, log);
  for (const dir of ['run', 'logs', 'data']) fs.mkdirSync(path.join(cfg.home, dir), { recursive: true });

  const args = [
    `-Xms${cfg.heap}`,
    `-Xmx${cfg.heap}`,
    '-XX:+UseG1GC',
    // Regions of 8 MB instead of G1's 1 MB for a heap of 1-2 GB: a flush's statements carry
    // parameters of about 3 MB, which in 1 MB regions are humongous objects, and each young
    // collection came with them. 10k-call flushes, four pairs alternating: GC pauses 1.8-2.7 s ->
    // 0.4-0.7 s a series, creating the calls 3.4-3.7 -> 2.4-3.5 s; updating and the end-to-end
    // rate did not move beyond the noise.
    '-XX:G1HeapRegionSize=8m',
    `-Dhg.home=${cfg.home}`,
    `-Dhg.bolt=${cfg.host}:${cfg.boltPort}`,
    `-Dhg.http=${cfg.httpPort > 0 ? `${cfg.host}:${cfg.httpPort}` : ''}`,
    `-Dhg.pagecache=${cfg.pageCache}`,
    `-Dhg.remoteContentHosts=${remoteContentHostsOf(cfg).join(',')}`,
    '-cp',
    `${lib}${path.sep}*`,
    path.join(NEO4J_DIR, 'Launcher.java'),
  ];
  const logFd = fs.openSync(launcherLogPath(cfg), 'a');
  // The password goes through stdin, not the command line, where `ps` would show it to every user.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NEO4J_PASSWORD'));
  const child = spawn(javaExecutable(cfg), args, { detached: true, stdio: ['pipe', logFd, logFd], env });
  fs.closeSync(logFd);
  if (child.pid === undefined) throw new EnvironmentError('could not start the local Neo4j process');
  child.stdin?.on('error', () => undefined); // an early exit is reported below, with the launcher's log
  child.stdin?.end(`${auth.password}\n`);
  child.unref();
  const pidFile: PidFile = { pid: child.pid, host: cfg.host, boltPort: cfg.boltPort, httpPort: cfg.httpPort };
  fs.writeFileSync(pidFilePath(cfg), JSON.stringify(pidFile));
  log.info({ neo4jPid: child.pid, bolt: boltUriOf(cfg), home: cfg.home }, 'starting local Neo4j');

  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + cfg.startTimeoutMs;
  while (!(await isPortOpen(cfg.host, cfg.boltPort))) {
    if (exited !== undefined) {
      throw new EnvironmentError(`the local Neo4j exited during start (code ${exited}); its log says:\n${tailOf(launcherLogPath(cfg))}`);
    }
    if (Date.now() > deadline) {
      throw new EnvironmentError(
        `the local Neo4j did not open Bolt on ${cfg.host}:${cfg.boltPort} within ${cfg.startTimeoutMs} ms; see ${launcherLogPath(cfg)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  // The password is set just after Bolt opens: wait until the configured credentials are accepted.
  const driver = createDriver(boltUriOf(cfg), { ...auth, connectTimeoutMs: 5000 });
  try {
    // On a loaded machine setting the password can take tens of seconds after Bolt opens: wait as
    // long as the start may take. Neo4j locks the user for 5 s after 3 failed logins in a row, so
    // after the third failure ask only every 6 s, past the lock, instead of keeping it locked.
    const until = Math.max(deadline, Date.now() + 30_000);
    for (let failures = 0; ; failures += 1) {
      try {
        await verifyNeo4j(driver, boltUriOf(cfg), 2000);
        break;
      } catch (err) {
        if (Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, failures < 2 ? 500 : 6000));
      }
    }
  } finally {
    await driver.close();
  }
  log.info({ neo4jPid: child.pid, bolt: boltUriOf(cfg), browser: browserUrlOf(cfg) }, 'local Neo4j ready');
  return { running: true, pid: child.pid, boltUri: boltUriOf(cfg), browserUrl: browserUrlOf(cfg), home: cfg.home, started: true };
}

/** Stops the local Neo4j cleanly (SIGTERM, then SIGKILL after `timeoutMs`). */
export async function stopLocalNeo4j(cfg: LocalNeo4jConfig, log: Logger, timeoutMs = 60_000): Promise<boolean> {
  const pf = readPidFile(cfg);
  if (!pf || !isAlive(pf.pid)) {
    fs.rmSync(pidFilePath(cfg), { force: true });
    return false;
  }
  process.kill(pf.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pf.pid)) {
    if (Date.now() > deadline) {
      log.warn({ neo4jPid: pf.pid }, 'local Neo4j did not stop in time; killing it');
      process.kill(pf.pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  fs.rmSync(pidFilePath(cfg), { force: true });
  log.info({ neo4jPid: pf.pid }, 'local Neo4j stopped');
  return true;
}
