import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendDeadLetters } from '../../../src/collector/dead-letter-file';
import { type ActivityRow, type CallRow, type IngestBatch, emptyCallRow } from '../../../src/model/ingest-rows';
import { Executor, type TxRunner, isRefusal } from '../../../src/graph/executor';
import { applyIngestRows } from '../../../src/graph/write-ingest-batch';
import { decodeSketch, encodeSketch, newLatencySketch } from '../../../src/model/latency-sketch';
import { readResumePoint } from '../../../src/graph/read-resume-point';
import { applyStagedParts, partsOf, stageBatch, writeStagedBatch } from '../../../src/graph/write-staged-batch';
import { silentLogger } from '../../../src/logger';
import { ROW_TIME, httpCallRow, podRow, tcpEdge } from '../../helpers/ingest-rows';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

const T0 = ROW_TIME;
const pod = podRow;
const call = httpCallRow;

/** 12 pods in a ring of 12 calls of 2 flows each, with a resume point. */
function ringBatch(): IngestBatch {
  const ids = Array.from({ length: 12 }, (_, i) => `ring/p${i}`);
  return {
    endpoints: ids.map(pod),
    calls: ids.map((id, i) => call(id, ids[(i + 1) % ids.length]!, 2)),
    maxFlowTimeMs: T0,
    resume: { watermarkMs: T0, overlapMs: 2000, committedKeys: new Int8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
  };
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** `flows` flows of a call in the minute starting at `startMs` and in its hour (the rows ActivityHold sends). */
function minuteAndHour(startMs: number, flows: number): ActivityRow[] {
  return [MINUTE, HOUR].map((sizeMs) => ({
    ...emptyCallRow(tcpEdge('x/a', 'x/b'), 'hubble', startMs + 1000),
    flows,
    sizeMs,
    startMs: startMs - (startMs % sizeMs),
  }));
}

/**
 * A flush after a burst: 3 calls with totals and their buckets, and the held buckets of 12 other calls
 * between pods of three namespaces (as ActivityHold sends them when the stream goes quiet: `bucketsOnly` rows).
 */
function burstEndBatch(): IngestBatch {
  const ids = ['ns-a', 'ns-b', 'ns-c'].flatMap((ns) => [1, 2, 3].map((i) => `${ns}/p${i}`));
  const held: CallRow[] = [];
  for (let i = 0; i < 12; i++) {
    const row = emptyCallRow(tcpEdge(ids[i % 9]!, ids[(i + 1 + 3 * Math.floor(i / 9)) % 9]!), 'hubble', ROW_TIME);
    row.bucketsOnly = true;
    row.activity = [...minuteAndHour(ROW_TIME, i + 1), ...minuteAndHour(ROW_TIME + MINUTE, 2 * i + 1)];
    held.push(row);
  }
  return {
    endpoints: ids.map(podRow),
    calls: [
      ...[0, 1, 2].map((i) => ({ ...httpCallRow(ids[i]!, ids[i + 3]!, 2), activity: minuteAndHour(ROW_TIME, 2) })),
      ...held.reverse(),
    ],
    maxFlowTimeMs: ROW_TIME + 2 * MINUTE,
  };
}

/** Fails the `failAt`-th write transaction after its work ran (a connection lost before its commit); 0: never. */
class FailingExecutor extends Executor {
  writes = 0;
  failAt = 0;
  override async writeTx<T>(work: (tx: TxRunner) => Promise<T>): Promise<T> {
    const n = ++this.writes;
    return super.writeTx(async (tx) => {
      const result = await work(tx);
      if (n === this.failAt) throw new Error(`write ${n}: connection lost before the commit`);
      return result;
    });
  }
}

/**
 * A flush too large for one transaction (after a long Neo4j outage, one transaction of 100k rows
 * ran out of Neo4j's transaction memory): staged with its resume point in one transaction, then
 * applied in parts, each exactly once across retries and restarts.
 */
describe('writeStagedBatch (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => resetGraph(executor));
  afterAll(async () => executor.close());

  const options = { collectorId: 'staged', runId: 'run-1', batchSeq: 1, rowsPerTransaction: 5, rowsPerStatement: 5 };
  const totals = () =>
    executor
      .read<{ pods: number; calls: number; flows: number; stages: number; total: number; lastBatch: number }>(
        `CALL { MATCH (p:Pod) RETURN count(p) AS pods } CALL { MATCH ()-[r:CALLS]->() RETURN count(r) AS calls, sum(r.flows) AS flows }
       CALL { MATCH (s:IngestStage) RETURN count(s) AS stages } MATCH (c:Collector {id: 'staged'})
       RETURN pods, calls, flows, stages, c.flowsIngestedTotal AS total, c.lastBatch AS lastBatch`,
      )
      .then((r) => r[0]);

  it('writes every part once, leaves no stage behind, and records the batch with its resume point', async () => {
    expect(partsOf(ringBatch(), 5).map((p) => [p.endpoints.length, p.calls.length])).toEqual([
      [5, 0],
      [5, 0],
      [2, 0],
      [0, 5],
      [0, 5],
      [0, 2],
    ]);
    const res = await writeStagedBatch(executor, ringBatch(), options);
    expect(res.applied).toBe(true);
    expect(await totals()).toEqual({ pods: 12, calls: 12, flows: 24, stages: 0, total: 24, lastBatch: 1 });
    expect(await readResumePoint(executor, 'staged')).toEqual(ringBatch().resume);
    // A retry with the same sequence (the commit's answer was lost) adds nothing.
    expect((await writeStagedBatch(executor, ringBatch(), options)).applied).toBe(false);
    expect(await totals()).toMatchObject({ flows: 24, total: 24 });
  });

  it('leaves the parts of a batch staged when the collector dies after staging, for the next start to apply once', async () => {
    expect(await stageBatch(executor, ringBatch(), options)).toBe(true);
    expect(await totals()).toEqual({ pods: 0, calls: 0, flows: 0, stages: 6, total: 0, lastBatch: 1 });
    // The resume point is committed with the staging: a restart resumes after these flows.
    expect((await readResumePoint(executor, 'staged'))?.watermarkMs).toBe(T0);
    expect(await applyStagedParts(executor, { collectorId: 'staged' }, options)).toBe(6);
    expect(await applyStagedParts(executor, { collectorId: 'staged' }, options)).toBe(0);
    expect(await totals()).toEqual({ pods: 12, calls: 12, flows: 24, stages: 0, total: 24, lastBatch: 1 });
  });

  // stats' lastFlowTime, lastCommitAt and ingest lag say when a batch's flows were in the graph:
  // stamped by its last part's transaction, not by the one that staged it.
  it("stamps the collector with the batch's last flow time and commit time when its last part is applied, not when it is staged", async () => {
    const stamps = () =>
      executor
        .read<{ flowMs: number | null; commitMs: number | null }>(
          `MATCH (c:Collector {id: 'staged'}) RETURN c.lastFlowTime.epochMillis AS flowMs, c.lastCommitAt.epochMillis AS commitMs`,
        )
        .then((r) => r[0]);
    expect(await stageBatch(executor, ringBatch(), options)).toBe(true);
    expect(await stamps()).toEqual({ flowMs: null, commitMs: null });
    const staged = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    expect(await applyStagedParts(executor, { collectorId: 'staged', runId: 'run-1', batchSeq: 1 }, options)).toBe(6);
    const applied = await stamps();
    expect(applied?.flowMs).toBe(T0);
    expect(applied?.commitMs).toBeGreaterThan(staged);

    // The next batch, staged in one part: stamped again, with its own latest flow.
    const next = { ...ringBatch(), maxFlowTimeMs: T0 + 60_000 };
    await writeStagedBatch(executor, next, { ...options, batchSeq: 2, rowsPerTransaction: 100 });
    const after = await stamps();
    expect(after?.flowMs).toBe(T0 + 60_000);
    expect(after?.commitMs).toBeGreaterThanOrEqual(applied!.commitMs!);
  });

  it('sends a refused row of a staged part to the dead-letter file and applies the rest of the part', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-staged-'));
    try {
      const batch = ringBatch();
      batch.endpoints.push(pod(`ring/${'x'.repeat(10_000)}`));
      const file = path.join(tmp, 'dl.jsonl');
      await writeStagedBatch(executor, batch, {
        ...options,
        refusals: { isRefusal, deadLetter: (rows) => appendDeadLetters(file, 'staged', rows, silentLogger()) },
      });
      expect(await totals()).toEqual({ pods: 12, calls: 12, flows: 24, stages: 0, total: 24, lastBatch: 1 });
      const letters = fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(letters.map((l) => [l.kind, l.reason.slice(0, 36)])).toEqual([['endpoint', 'Property value is too large to index']]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  describe('parts of activity buckets, written by several transactions at once', () => {
    /** Every Activity and Rollup node's properties, keys sorted (Neo4j's order of them follows the order they were first written). */
    const stored = async () =>
      (
        await executor.read<{ label: string; node: Record<string, unknown> }>(
          'MATCH (n) WHERE n:Activity OR n:Rollup RETURN labels(n)[0] AS label, properties(n) AS node',
        )
      )
        .map(({ label, node }) => JSON.stringify([label, Object.entries(node).sort(([a], [b]) => (a < b ? -1 : 1))]))
        .sort();
    const changeLog = () =>
      executor.read<{ seq: number; createdCalls: string[] }>(
        'MATCH (l:ChangeLog) RETURN l.seq AS seq, l.createdCalls AS createdCalls ORDER BY seq',
      );

    it('cuts the held buckets into their own parts, by the namespaces of their ends, and ends with an empty part', () => {
      const shape = (parts: ReturnType<typeof partsOf>) =>
        parts.map((p) => [p.endpoints.length, p.calls.length, p.calls.filter((c) => c.bucketsOnly).length]);
      expect(shape(partsOf(burstEndBatch(), 5))).toEqual([
        [5, 0, 0],
        [4, 0, 0],
        [0, 3, 0],
        [0, 5, 5],
        [0, 5, 5],
        [0, 2, 2],
        [0, 0, 0],
      ]);
      // Split, the buckets of the calls with totals join the held ones: every bucket beside the calls.
      const split = partsOf(burstEndBatch(), 5, { splitBuckets: true });
      expect(shape(split)).toEqual([
        [5, 0, 0],
        [4, 0, 0],
        [0, 3, 0],
        [0, 5, 5],
        [0, 5, 5],
        [0, 5, 5],
        [0, 0, 0],
      ]);
      expect(split[2]?.calls.map((c) => [c.flows, c.activity])).toEqual([
        [2, undefined],
        [2, undefined],
        [2, undefined],
      ]);
      const ends = split
        .flatMap((p) => p.calls.filter((c) => c.bucketsOnly))
        .map((c) => `${c.sourceId.split('/')[0]}>${c.destinationId.split('/')[0]}`);
      expect(ends).toEqual([...ends].sort());
      expect(split.flatMap((p) => p.calls.filter((c) => c.bucketsOnly)).every((c) => c.flows === 0 && (c.activity?.length ?? 0) > 0)).toBe(
        true,
      );
    });

    it('stores the same buckets and roll-ups as one part after another, takes one change-feed sequence after them, and stamps the batch', async () => {
      await writeStagedBatch(executor, burstEndBatch(), { ...options, concurrentParts: 1 });
      const oneByOne = await stored();
      const oneByOneLog = await changeLog();
      await resetGraph(executor);
      await writeStagedBatch(executor, burstEndBatch(), { ...options, concurrentParts: 3 });
      const concurrent = await stored();
      expect(concurrent).toEqual(oneByOne);
      // 12 held calls x 2 minutes and 3 calls x 1 minute, each minute with its flows.
      const [minutes] = await executor.read<{ buckets: number; flows: number }>(
        'MATCH (a:Activity {size: 60}) RETURN count(a) AS buckets, sum(a.flows) AS flows',
      );
      expect(minutes).toEqual({ buckets: 27, flows: (12 * 13) / 2 + 12 * 12 + 3 * 2 });
      // Endpoint parts, the calls' part and the last (empty) part take a sequence; the 3 parts of buckets none.
      const log = await changeLog();
      expect(log).toHaveLength(4);
      expect(oneByOneLog).toHaveLength(4);
      expect(log[2]?.createdCalls).toHaveLength(3);
      expect(log[3]?.createdCalls).toEqual([]);
      expect(await totals()).toEqual({ pods: 9, calls: 3, flows: 6, stages: 0, total: 6, lastBatch: 1 });
      const [stamp] = await executor.read<{ flowMs: number }>(
        "MATCH (c:Collector {id: 'staged'}) RETURN c.lastFlowTime.epochMillis AS flowMs",
      );
      expect(stamp?.flowMs).toBe(ROW_TIME + 2 * MINUTE);
    });

    it('counts every bucket once when a part of buckets fails while others commit, and the batch is written again', async () => {
      await writeStagedBatch(executor, burstEndBatch(), { ...options, concurrentParts: 1 });
      const expected = await stored();
      await resetGraph(executor);
      const failing = testExecutor(FailingExecutor);
      try {
        // Write 1 stages, 2-3 apply the endpoints; then the calls' part and the first two parts of
        // buckets at once (4-6), the third (7), the last part (8): the 6th fails.
        failing.failAt = 6;
        await expect(writeStagedBatch(failing, burstEndBatch(), { ...options, concurrentParts: 3 })).rejects.toThrow('connection lost');
        expect((await totals())?.stages).toBe(2); // the failed part and the last one are left
        failing.failAt = 0;
        expect((await writeStagedBatch(failing, burstEndBatch(), { ...options, concurrentParts: 3 })).applied).toBe(false);
        expect(await stored()).toEqual(expected);
        expect(await totals()).toEqual({ pods: 9, calls: 3, flows: 6, stages: 0, total: 6, lastBatch: 1 });
      } finally {
        await failing.close();
      }
    });

    it('loses no addition when transactions add into the same buckets and roll-ups at once', async () => {
      // Outside the change-feed lock nothing orders these transactions: each must read a bucket's
      // and a roll-up's counts and sketch only once it holds the node's lock (lockOnMatch); a sketch
      // is read, merged in JS and written back. Each writer adds one flow with a latency to a call
      // all share (ns-a/p1 -> ns-c/p1: the same Activity nodes) and to a call of its own between
      // ns-a and ns-b (other Activity nodes, the same NAMESPACE roll-ups).
      const heldRow = (src: string, dst: string): CallRow => {
        const sketch = newLatencySketch();
        sketch.accept(12);
        const row = emptyCallRow(tcpEdge(src, dst), 'hubble', ROW_TIME);
        row.bucketsOnly = true;
        row.activity = minuteAndHour(ROW_TIME, 1).map((b) => ({ ...b, latencySketch: encodeSketch(sketch), latencyCount: 1 }));
        return row;
      };
      const batchOf = (row: CallRow): IngestBatch => ({ endpoints: [], calls: [row], maxFlowTimeMs: 0 });
      const shared = () => batchOf(heldRow('ns-a/p1', 'ns-c/p1'));
      const own = (k: number) => batchOf(heldRow(`ns-a/p${1 + (k % 3)}`, `ns-b/p${1 + Math.floor(k / 3)}`));
      await writeStagedBatch(executor, { ...burstEndBatch(), calls: [] }, options);
      const writers = 8;
      // Each phase: one transaction first, then the 8 at once (they find the nodes it created).
      for (const batch of [shared, own]) {
        await executor.writeTx((tx) => applyIngestRows(tx, batch(0), 5, { changeFeed: false }));
        await Promise.all(
          Array.from({ length: writers }, (_, i) =>
            executor.writeTx(async (tx) => {
              await applyIngestRows(tx, batch(i + 1), 5, { changeFeed: false });
              await new Promise((r) => setTimeout(r, 100)); // the others read while this one holds its writes
            }),
          ),
        );
      }
      const stored = await executor.read<{ node: string; size: number; flows: number; sketch: string }>(
        `MATCH (n) WHERE (n:Activity AND n.sourceId = 'ns-a/p1' AND n.destinationId = 'ns-c/p1') OR (n:Rollup AND n.level = 'NAMESPACE' AND n.size > 0)
         RETURN coalesce(n.level, 'Activity') + ' ' + coalesce(n.target, '') AS node, n.size AS size, n.flows AS flows, n.latencySketch AS sketch
         ORDER BY node, size`,
      );
      const all = writers + 1;
      expect(stored.map(({ node, size, flows, sketch }) => ({ node, size, flows, latencies: decodeSketch(sketch).count }))).toEqual(
        ['Activity ', 'NAMESPACE ns-b', 'NAMESPACE ns-c'].flatMap((node) => [
          { node, size: 60, flows: all, latencies: all },
          { node, size: 3600, flows: all, latencies: all },
        ]),
      );
    });

    it('refuses to write rows other than activity buckets alone outside the change feed', async () => {
      await expect(executor.writeTx((tx) => applyIngestRows(tx, ringBatch(), 5, { changeFeed: false }))).rejects.toThrow(
        'only rows of activity buckets alone',
      );
    });
  });
});
