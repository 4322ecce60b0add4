import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { HubbleEvent } from '../../../src/flows/flow';
import { generateFlows, type GeneratedFlows } from '../../../src/generator/generate-flows';
import type { Executor } from '../../../src/graph/executor';
import { startReplayServer, type ReplayServer } from '../../../src/hubble/replay-server';
import { runCli, startCli } from '../../helpers/cli';
import { readCallCounts, storedFlowTotal, toEvents, truthCallCounts, waitFor } from '../../helpers/ground-truth';
import { readOneRow, resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';

/** test/fixtures/poison/poisoned-flows.json: one poisoned flow per entry, with what must become of it. */
interface PoisonEntry {
  name: string;
  transports: Array<'grpc' | 'import'>;
  expect: {
    skipped?: 'invalid_field' | 'time_out_of_range';
    field?: string;
    timeFromNowMs?: number;
    kept?: boolean;
    dropped?: string[];
    edge?: string;
    counts?: Record<string, number>;
  };
  response: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const CORPUS: PoisonEntry[] = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../../fixtures/poison/poisoned-flows.json'), 'utf8'),
).entries;

/** The corpus entries a transport can carry, their times set where the entry asks for "now + x". */
function corpusFor(transport: 'grpc' | 'import'): PoisonEntry[] {
  return CORPUS.filter((e) => e.transports.includes(transport)).map((e) => {
    const copy: PoisonEntry = structuredClone(e);
    if (e.expect.timeFromNowMs !== undefined) {
      const time = new Date(Date.now() + e.expect.timeFromNowMs).toISOString();
      copy.response.flow.time = time;
      copy.response.time = time;
    }
    return copy;
  });
}

/** The poisoned lines spread evenly through the generated stream. */
function interleave<T>(stream: T[], poison: T[]): T[] {
  const out: T[] = [];
  let next = 0;
  stream.forEach((item, i) => {
    while (next < poison.length && i >= Math.floor(((next + 1) * stream.length) / (poison.length + 1))) out.push(poison[next++]!);
    out.push(item);
  });
  return [...out, ...poison.slice(next)];
}

/** The graph holds the generator's truth exactly, plus the kept poisoned flows on their own edges and nothing else. */
async function expectOnlyPoisonLost(
  executor: Executor,
  generated: GeneratedFlows,
  entries: PoisonEntry[],
  collectorId: string,
): Promise<void> {
  const kept = entries.filter((e) => e.expect.kept);
  const stored = await readCallCounts(executor);
  const truth = truthCallCounts(generated.truth());
  const poisonEdges = Object.fromEntries(Object.entries(stored).filter(([k]) => k.startsWith('poison/')));
  const rest = Object.fromEntries(Object.entries(stored).filter(([k]) => !k.startsWith('poison/')));
  expect(rest).toEqual(truth);
  expect(poisonEdges).toEqual(Object.fromEntries(kept.map((e) => [e.expect.edge!, e.expect.counts!])));
  const ids = await executor.read<{ id: string }>('MATCH (e:Endpoint) RETURN e.id AS id');
  const keptIds = kept.flatMap((e) => e.expect.edge!.split('|').slice(0, 2));
  expect(ids.map((r) => r.id).sort()).toEqual([...generated.truth().endpoints.map((e) => e.id), ...keptIds].sort());

  // Refusals counted by reason and removed fields by field, on the collector's node as in /metrics.
  const node = await readOneRow<{ skipped: string[]; dropped: string[]; deadLetterRows: number }>(
    executor,
    'MATCH (c:Collector {id: $id}) RETURN c.skippedByReason AS skipped, c.fieldsDropped AS dropped, c.deadLetterRows AS deadLetterRows',
    { id: collectorId },
  );
  const tally = (keys: string[]) => keys.reduce<Record<string, number>>((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {});
  const asMap = (list: string[]) =>
    Object.fromEntries(list.map((s) => [s.slice(0, s.lastIndexOf('=')), Number(s.slice(s.lastIndexOf('=') + 1))]));
  expect(asMap(node.skipped)).toEqual(tally(entries.flatMap((e) => (e.expect.skipped ? [e.expect.skipped] : []))));
  expect(asMap(node.dropped)).toEqual(tally(kept.flatMap((e) => e.expect.dropped ?? [])));
  expect(node.deadLetterRows).toBe(0);
}

describe('poisoned input: only the poisoned flows are lost', () => {
  let executor: Executor;
  let generated: GeneratedFlows;
  let replay: ReplayServer | undefined;
  let tmp: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    executor = testExecutor();
    generated = generateFlows({ pods: 30, edges: 120, flows: 5000, seed: 5 });
  });
  beforeEach(async () => {
    await resetGraph(executor);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-poison-'));
  });
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children.length = 0;
    await replay?.stop();
    replay = undefined;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  afterAll(async () => executor.close());

  it('through import: the rest equals the ground truth, refusals are counted by reason and removed fields by field', async () => {
    const entries = corpusFor('import');
    const lines = interleave<unknown>(
      [...generated],
      entries.map((e) => e.response),
    ).map((r) => JSON.stringify(r));
    const file = path.join(tmp, 'flows.json');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const deadLetters = path.join(tmp, 'dead-letters.jsonl');
    const res = await runCli(
      ['import', file, '--collector-id', 'poison-import'],
      testEnv({ HG_DEAD_LETTER_FILE: deadLetters, HG_MIGRATE: 'false' }),
    );
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(summary.flowsIngested).toBe(generated.truth().flows + entries.filter((e) => e.expect.kept).length);
    expect(summary.written).toBe(true);
    await expectOnlyPoisonLost(executor, generated, entries, 'poison-import');
    expect(fs.existsSync(deadLetters)).toBe(false);
    // Each refusal names the field and the value received.
    expect(res.stderr).toMatch(
      /"field":"source.pod_name","message":"\\"source.pod_name\\" must be a name of at most 253 characters without control characters, got \\"p{60}\.\.\.\\" \(10000 characters\)"/,
    );
  });

  it('through gRPC (replay server -> collect): the rest equals the ground truth, the collector keeps running', async () => {
    const entries = corpusFor('grpc');
    const poison: HubbleEvent[] = entries.map((e) => ({ kind: 'flow', flow: e.response.flow, nodeName: e.response.node_name }));
    replay = await startReplayServer({ events: interleave(toEvents(generated), poison), listen: '127.0.0.1:0' });
    const run = startCli(
      ['collect'],
      testEnv({
        HUBBLE_SERVER: `127.0.0.1:${replay.port}`,
        HG_COLLECTOR_LISTEN: '127.0.0.1:0',
        HG_COLLECTOR_ID: 'poison-grpc',
        HG_FLUSH_INTERVAL: '200ms',
        HG_DEAD_LETTER_FILE: path.join(tmp, 'dl.jsonl'),
      }),
    );
    children.push(run.child);
    const expected = generated.truth().flows + entries.filter((e) => e.expect.kept).length;
    try {
      await waitFor(
        'every good flow stored',
        () => storedFlowTotal(executor),
        (n) => n >= expected,
        90_000,
      );
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
    expect(await storedFlowTotal(executor)).toBe(expected);
    await expectOnlyPoisonLost(executor, generated, entries, 'poison-grpc');
    expect(fs.existsSync(path.join(tmp, 'dl.jsonl'))).toBe(false);
  });

  it('skips a flow dated months ahead, which then does not move the resume point across a Hubble restart', async () => {
    const events = toEvents(generated);
    const half = Math.floor(events.length / 2);
    const ahead: HubbleEvent = structuredClone(events[half - 1]!);
    if (ahead.kind !== 'flow') throw new Error('not a flow');
    ahead.flow.time = new Date(Date.now() + 90 * 86_400_000).toISOString();
    ahead.flow.uuid = 'months-ahead';
    replay = await startReplayServer({ events: [...events.slice(0, half), ahead], listen: '127.0.0.1:0' });
    const port = replay.port;
    const run = startCli(
      ['collect'],
      testEnv({
        HUBBLE_SERVER: `127.0.0.1:${port}`,
        HG_COLLECTOR_LISTEN: '127.0.0.1:0',
        HG_COLLECTOR_ID: 'months-ahead',
        HG_FLUSH_INTERVAL: '200ms',
        HG_RECONNECT_MIN: '100ms',
        HG_RECONNECT_MAX: '300ms',
      }),
    );
    children.push(run.child);
    try {
      const firstHalf = events.slice(0, half).length;
      await waitFor(
        'first half stored',
        () => storedFlowTotal(executor),
        (n) => n >= firstHalf,
        60_000,
      );
      await new Promise((r) => setTimeout(r, 500)); // the flow from the future has been read too
      await replay.stop();
      replay = await startReplayServer({ events: [...events.slice(0, half), ahead, ...events.slice(half)], listen: `127.0.0.1:${port}` });
      await waitFor(
        'every flow stored',
        () => storedFlowTotal(executor),
        (n) => n >= generated.truth().flows,
        90_000,
      );
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
    expect(await readCallCounts(executor)).toEqual(truthCallCounts(generated.truth()));
    const node = await readOneRow<{ lastFlowTime: string; skipped: string[] }>(
      executor,
      "MATCH (c:Collector {id: 'months-ahead'}) RETURN toString(c.lastFlowTime) AS lastFlowTime, c.skippedByReason AS skipped",
    );
    expect(Date.parse(node.lastFlowTime)).toBeLessThan(Date.now());
    expect(node.skipped).toContain('time_out_of_range=2'); // read before and after the restart
  });
});
