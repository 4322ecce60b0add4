import { seededRandom } from '../src/generator/seeded-random';
import fs from 'node:fs';
import path from 'node:path';
import { type AppConfig, loadConfig, PROJECT_ROOT } from '../src/config';
import { errorMessage } from '../src/errors';
import type { Flow, HubbleEvent } from '../src/flows/flow';
import { generateFlows } from '../src/generator/generate-flows';
import { createDriver, verifyNeo4j } from '../src/graph/driver';
import { Executor } from '../src/graph/executor';
import { localNeo4jStatus, startLocalNeo4j, stopLocalNeo4j } from '../src/graph/local-neo4j';
import { migrate } from '../src/graph/migrate';
import { startReplayServer, type ReplayServer } from '../src/hubble/replay-server';
import { createLogger } from '../src/logger';
import { resetGraph } from './bench-graph';
import { type BenchChild, spawnNodeChild } from './child-process';
import { type EdgeCounts, diffGraph, isExact, truthEdgeCounts } from './ground-truth-diff';
import { machineInfo } from './machine-info';

/**
 * `npm run chaos [-- --kills N] [-- --flows N] [-- --rate N] [-- --seed S]`
 *
 * A bounded fault run (never part of `npm test`): one generated stream with the poisoned-flow
 * corpus mixed in, served by the replay server and read by `hubble-graph collect` in a process of
 * its own, while N faults of each kind strike at seeded times: the collector killed with SIGKILL
 * (restarted with the same id), Neo4j killed with SIGKILL (restarted on the same data), the replay
 * server stopped and started again (a Hubble restart). At the end the graph must equal the
 * generator's ground truth plus the poisoned flows that are kept: every count, every endpoint. It
 * reports the differences (0 expected) and how long each recovery took, and writes
 * bench/results/chaos-<time>.json. Exit code 1 when anything differs.
 *
 * It uses a Neo4j of its own (`.data/neo4j-chaos`, Bolt 27787, 1 GB heap); with NEO4J_URI set it
 * uses that server, empties it, and skips the Neo4j kills (it cannot restart a server it did not start).
 */

interface ChaosArgs {
  kills: number;
  flows: number;
  rate: number;
  seed: number;
}

function parseArgs(argv: readonly string[]): ChaosArgs {
  const args: ChaosArgs = { kills: 3, flows: 30_000, rate: 300, seed: 7 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--/, '') as keyof ChaosArgs;
    if (name === ('help' as keyof ChaosArgs)) {
      process.stdout.write('usage: npm run chaos [-- --kills N (3)] [-- --flows N (30000)] [-- --rate flows/s (300)] [-- --seed S (7)]\n');
      process.exit(0);
    }
    const value = Number(argv[++i]);
    if (!(name in args) || !Number.isInteger(value) || value < 0)
      throw new Error(`unknown or bad argument ${argv[i - 1]} ${argv[i] ?? ''} (try --help)`);
    args[name] = value;
  }
  return args;
}

function log(msg: string): void {
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The corpus entries a gRPC stream can carry (test/fixtures/poison/), with what must become of them. */
interface PoisonEntry {
  name: string;
  transports: string[];
  expect: { kept?: boolean; edge?: string; counts?: EdgeCounts; timeFromNowMs?: number; skipped?: string };
  response: { flow: Flow; node_name?: string; time?: string };
}

function poisonCorpus(): PoisonEntry[] {
  const file = path.join(PROJECT_ROOT, 'test', 'fixtures', 'poison', 'poisoned-flows.json');
  const entries = (JSON.parse(fs.readFileSync(file, 'utf8')) as { entries: PoisonEntry[] }).entries.filter((e) =>
    e.transports.includes('grpc'),
  );
  for (const e of entries) {
    if (e.expect.timeFromNowMs !== undefined) e.response.flow.time = new Date(Date.now() + e.expect.timeFromNowMs).toISOString();
  }
  return entries;
}

type FaultKind = 'collector' | 'neo4j' | 'replay';

interface FaultRecord {
  kind: FaultKind;
  /** Seconds since the stream started. */
  atS: number;
  /** Flows stored when it struck. */
  storedBefore: number;
  /** Until the fault was repaired (the process restarted, Neo4j answering again), ms. */
  repairMs: number;
  /** Until the stored flow count grew again after the repair, ms (undefined when the stream had ended). */
  progressAfterMs?: number;
}

async function storedFlows(executor: Executor): Promise<number> {
  try {
    const [row] = await executor.read<{ n: number | null }>('MATCH ()-[r:CALLS]->() RETURN sum(r.flows) AS n');
    return row?.n ?? 0;
  } catch {
    return -1; // Neo4j away
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const external = process.env.NEO4J_URI !== undefined && process.env.NEO4J_URI !== '';
  const config = loadConfig({
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      ...(external
        ? {}
        : { HG_NEO4J_HOME: '.data/neo4j-chaos', HG_NEO4J_BOLT_PORT: '27787', HG_NEO4J_HTTP_PORT: '0', HG_NEO4J_HEAP: '1g' }),
    },
  });
  const quiet = createLogger('warn');
  // A server of its own: stopped at the end whoever started it.
  if (!external) await startChaosNeo4j(config);
  const uri = config.neo4j.uri ?? `bolt://${config.local.host}:${config.local.boltPort}`;
  const executor = new Executor(createDriver(uri, config.neo4j), { database: config.neo4j.database, queryTimeoutMs: 120_000 });
  let replay: ReplayServer | undefined;
  let collector: BenchChild | undefined;
  let stopping = false;
  // Ctrl-C: leave nothing running that this run started.
  const interrupted = new Promise<never>((_, reject) =>
    ['SIGINT', 'SIGTERM'].forEach((sig) => process.once(sig, () => reject(new Error(`interrupted (${sig})`)))),
  );
  interrupted.catch(() => undefined);
  try {
    await Promise.race([run(), interrupted]);
  } finally {
    stopping = true;
    if (collector && !collector.exited()) await collector.stop(5000);
    await replay?.stop();
    await executor.close();
    if (!external) await stopLocalNeo4j(config.local, quiet);
  }

  async function run(): Promise<void> {
    await migrate(executor, quiet);
    await resetGraph(executor);
    const deadLetterFile = path.join(PROJECT_ROOT, '.data', 'chaos-dead-letters.jsonl');
    fs.rmSync(deadLetterFile, { force: true });

    const generated = generateFlows({ pods: 80, edges: 400, flows: args.flows, seed: args.seed });
    const truth = generated.truth();
    const poison = poisonCorpus();
    const kept = poison.filter((p) => p.expect.kept);
    const events: HubbleEvent[] = [];
    const step = Math.floor(args.flows / (poison.length + 1));
    let next = 0;
    let i = 0;
    for (const r of generated) {
      if (next < poison.length && i > 0 && i % step === 0) {
        const p = poison[next++]!;
        // Dated like its neighbours (unless its time is the poison): the stream stays in time
        // order within the resume overlap, as Relay's is.
        if (p.expect.skipped !== 'time_out_of_range') p.response.flow.time = r.flow.time;
        events.push({ kind: 'flow', flow: p.response.flow, nodeName: p.response.node_name });
      }
      events.push({ kind: 'flow', flow: r.flow, nodeName: r.node_name });
      i++;
    }
    const expectedFlows = truth.flows + kept.length;
    const expectedEdges: Record<string, EdgeCounts> = {
      ...truthEdgeCounts(truth),
      ...Object.fromEntries(kept.map((p) => [p.expect.edge!, p.expect.counts!])),
    };
    const expectedEndpoints = [...truth.endpoints.map((e) => e.id), ...kept.flatMap((p) => p.expect.edge!.split('|').slice(0, 2))];
    log(
      `${truth.flows} generated flows (${truth.calls.length} edges) and ${poison.length} poisoned ones (${kept.length} kept without a bad field), served at ${args.rate} flows/s`,
    );

    replay = await startReplayServer({ events, listen: '127.0.0.1:0', rate: args.rate });
    const port = replay.port;
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'info', // the health endpoint's address is in an info line
      NEO4J_URI: uri,
      NEO4J_USERNAME: config.neo4j.username,
      NEO4J_PASSWORD: config.neo4j.password,
      NEO4J_DATABASE: config.neo4j.database,
      HUBBLE_SERVER: `127.0.0.1:${port}`,
      HG_COLLECTOR_ID: 'chaos',
      HG_COLLECTOR_LISTEN: '127.0.0.1:0',
      HG_FLUSH_INTERVAL: '300ms',
      HG_BATCH_SIZE: '200',
      HG_RESUME_OVERLAP: '20ms',
      HG_RESUME_WARMUP: '40ms',
      HG_RECONNECT_MIN: '100ms',
      HG_RECONNECT_MAX: '1s',
      HG_MIGRATE: 'false',
      HG_DEAD_LETTER_FILE: deadLetterFile,
    };
    const cli = path.join(PROJECT_ROOT, 'bin', 'hubble-graph.js');
    let runs = 0;
    let unplanned = 0;
    let healthUrl: string | undefined;
    // A supervisor, as Kubernetes would be: a collector that exits on its own is started again.
    const startCollector = () => {
      runs++;
      const child = spawnNodeChild([cli, 'collect'], childEnv);
      collector = child;
      healthUrl = undefined;
      child.child.stderr!.on('data', (chunk: Buffer) => {
        const m = /"url":"(http:\/\/[^"]+)","msg":"collector metrics and health endpoints"/.exec(chunk.toString());
        if (m && collector === child) healthUrl = m[1];
      });
      child.child.once('exit', (code, signal) => {
        if (stopping || collector !== child || signal === 'SIGKILL') return;
        unplanned++;
        log(`collector exited on its own (${code ?? signal}); starting it again: ${child.stderrTail().split('\n').slice(-2).join(' | ')}`);
        setTimeout(() => !stopping && startCollector(), 1000);
      });
    };
    startCollector();

    const streamS = args.flows / args.rate;
    const random = seededRandom(args.seed);
    const kinds: FaultKind[] = (['collector', 'neo4j', 'replay'] as FaultKind[]).filter((k) => k !== 'neo4j' || !external);
    const plan = kinds.flatMap((k) => Array.from({ length: args.kills }, () => k));
    for (let j = plan.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [plan[j], plan[k]] = [plan[k]!, plan[j]!];
    }
    const streamStart = Date.now();
    const faults: FaultRecord[] = [];
    for (let f = 0; f < plan.length; f++) {
      const at = ((f + 0.5 + (random() - 0.5) * 0.6) / plan.length) * streamS * 0.9;
      const wait = streamStart + at * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      const kind = plan[f]!;
      const storedBefore = await storedFlows(executor);
      const t0 = Date.now();
      if (kind === 'collector') {
        const victim = collector!;
        victim.child.kill('SIGKILL');
        await new Promise((r) => (victim.exited() ? r(undefined) : victim.child.once('exit', r)));
        startCollector();
      } else if (kind === 'neo4j') {
        const { pid } = await localNeo4jStatus(config.local);
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
        while ((await localNeo4jStatus(config.local)).running) await sleep(100);
        await sleep(1000);
        await startChaosNeo4j(config);
      } else {
        await replay!.stop();
        await sleep(1000);
        replay = await startReplayServer({ events, listen: `127.0.0.1:${port}`, rate: args.rate });
      }
      const repairMs = Date.now() - t0;
      const record: FaultRecord = { kind, atS: Math.round((t0 - streamStart) / 100) / 10, storedBefore, repairMs };
      const before = await storedFlows(executor);
      for (let w = 0; w < 600 && before < expectedFlows; w++) {
        const now = await storedFlows(executor);
        if (now > before && now > storedBefore) {
          record.progressAfterMs = Date.now() - t0 - repairMs;
          break;
        }
        await sleep(100);
      }
      faults.push(record);
      log(
        `${kind} fault at ${record.atS}s (stored ${storedBefore}): repaired in ${repairMs} ms, progress ${record.progressAfterMs ?? '-'} ms after`,
      );
    }

    log('all faults done; waiting for every flow');
    const deadline = Date.now() + 600_000;
    let stored = await storedFlows(executor);
    while (stored < expectedFlows && Date.now() < deadline) {
      await sleep(500);
      stored = await storedFlows(executor);
    }
    await sleep(2000); // a flush or two more: nothing may arrive
    // SIGTERM a collector that is up (one still loading has no handler yet: that would test nothing).
    for (let w = 0; w < 240; w++) {
      const ready =
        healthUrl !== undefined &&
        (await fetch(`${healthUrl}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        ));
      if (ready) break;
      await sleep(500);
    }
    stopping = true;
    const last = collector!;
    last.child.kill('SIGTERM');
    const exitCode = await new Promise<number | null>((r) =>
      last.exited() ? r(last.child.exitCode) : last.child.once('exit', (code) => r(code)),
    );

    const diff = await diffGraph(executor, expectedEdges, expectedEndpoints);
    const [node] = await executor.read<{
      total: number;
      skipped: string[];
      dropped: string[];
      deadLetterRows: number;
      keys: Int8Array | null;
    }>(
      "MATCH (c:Collector {id: 'chaos'}) RETURN c.flowsIngestedTotal AS total, c.skippedByReason AS skipped, c.fieldsDropped AS dropped, c.deadLetterRows AS deadLetterRows, c.resumeKeys AS keys",
    );
    const { stages } = (await executor.read<{ stages: number }>('MATCH (s:IngestStage) RETURN count(s) AS stages'))[0]!;
    const deadLetters = fs.existsSync(deadLetterFile)
      ? fs.readFileSync(deadLetterFile, 'utf8').trim().split('\n').filter(Boolean).length
      : 0;
    const result = {
      finishedAt: new Date().toISOString(),
      args,
      machine: machineInfo(),
      wallSeconds: Math.round((Date.now() - started) / 1000),
      flows: {
        generated: truth.flows,
        poisoned: poison.length,
        keptPoisoned: kept.length,
        expectedStored: expectedFlows,
        stored: await storedFlows(executor),
        flowsIngestedTotal: node?.total,
      },
      edges: truth.calls.length + kept.length,
      faults,
      faultCounts: Object.fromEntries(kinds.map((k) => [k, faults.filter((f) => f.kind === k).length])),
      collectorRuns: runs,
      unplannedCollectorRestarts: unplanned,
      finalCollectorExitCode: exitCode,
      lastRun: { skippedByReason: node?.skipped ?? [], fieldsDropped: node?.dropped ?? [], deadLetterRows: node?.deadLetterRows ?? 0 },
      deadLetterLines: deadLetters,
      stagesLeft: stages,
      resumeKeysBytes: node?.keys?.byteLength ?? 0,
      diff,
      exact: isExact(diff) && exitCode === 0 && stages === 0,
    };
    const dir = path.join(PROJECT_ROOT, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `chaos-${result.finishedAt.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
    const lines = [
      `chaos run: ${result.wallSeconds} s, ${truth.flows} flows + ${poison.length} poisoned, ${result.edges} edges, seed ${args.seed}`,
      ...kinds.map((k) => {
        const fs_ = faults.filter((f) => f.kind === k);
        const avg = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
        return `  ${k.padEnd(9)} faults ${fs_.length}: repaired in ${avg(fs_.map((f) => f.repairMs))} ms on average (max ${Math.max(0, ...fs_.map((f) => f.repairMs))}), stored flows growing again ${avg(fs_.flatMap((f) => (f.progressAfterMs === undefined ? [] : [f.progressAfterMs])))} ms later`;
      }),
      `  collector runs ${runs} (${unplanned} restarts after exiting on its own), final SIGTERM exit ${exitCode}`,
      `  stored flows ${result.flows.stored} of ${expectedFlows} expected; flowsIngestedTotal ${node?.total}`,
      `  differences from the ground truth: ${diff.differingValues} counts on ${diff.differingEdges} edges (${diff.missingEdges} missing, ${diff.extraEdges} extra), endpoints ${diff.missingEndpoints} missing / ${diff.extraEndpoints} extra`,
      ...diff.examples.map((e) => `    ${e}`),
      `  poisoned: last run skipped ${(node?.skipped ?? []).join(', ') || '-'}; dead letters ${deadLetters}; stages left ${stages}; resume keys stored ${result.resumeKeysBytes} bytes`,
      `  ${result.exact ? 'EXACT' : 'NOT EXACT'} — ${path.relative(PROJECT_ROOT, file)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (!result.exact) process.exitCode = 1;
  }
}

/**
 * Starts the chaos Neo4j and waits until it takes the password. On a loaded machine the launcher
 * may set the password after Bolt opens, and Neo4j then rate-limits the early attempts for a few
 * seconds: wait that out instead of giving up.
 */
async function startChaosNeo4j(config: AppConfig): Promise<void> {
  const quiet = createLogger('silent');
  try {
    await startLocalNeo4j(config.local, config.neo4j, quiet);
    return;
  } catch (err) {
    if (!/credentials|rate/i.test(errorMessage(err))) throw err;
  }
  const uri = `bolt://${config.local.host}:${config.local.boltPort}`;
  const driver = createDriver(uri, { ...config.neo4j, connectTimeoutMs: 5000 });
  try {
    for (let attempt = 0; ; attempt++) {
      await sleep(6000);
      try {
        await verifyNeo4j(driver, uri, 2000);
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
  } finally {
    await driver.close();
  }
}

main().catch((err) => {
  process.stderr.write(`chaos run failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
