import { encodeSketch, newLatencySketch } from '../../../src/model/latency-sketch';
import type { CallRow, EndpointRow, IngestBatch, ResumePoint } from '../../../src/model/ingest-rows';
import { readResumePoint } from '../../../src/graph/read-resume-point';
import type { Executor } from '../../../src/graph/executor';
import { callKey } from '../../../src/model/endpoint-ids';
import { CHANGE_LOG_RETENTION_MS } from '../../../src/graph/append-change-log';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { tcpEdge } from '../../helpers/ingest-rows';
import { readOneRow, resetGraph, testExecutor } from '../../helpers/neo4j';

const T0 = Date.parse('2022-09-22T07:15:13.011Z');

function pod(ns: string, name: string, at: number): EndpointRow {
  return {
    id: `${ns}/${name}`,
    kind: 'pod',
    name,
    namespace: ns,
    labels: [`app=${name}`],
    workload: name,
    workloadKind: 'Deployment',
    identity: 1000,
    node: 'kind-worker',
    cluster: 'default',
    firstSeenMs: at,
    lastSeenMs: at,
    source: 'hubble',
  };
}

function sketchOf(values: number[]): string {
  const s = newLatencySketch();
  for (const v of values) s.accept(v);
  return encodeSketch(s);
}

function call(src: string, dst: string, at: number, extra: Partial<CallRow> = {}): CallRow {
  return {
    ...tcpEdge(src, dst),
    flows: 4,
    connections: 1,
    requests: 2,
    responses: 2,
    errors: 1,
    l7Protocols: ['HTTP/1.1'],
    statusCounts: { '200': 1, '503': 1 },
    methodCounts: { POST: 2 },
    rcodeCounts: {},
    dropReasons: {},
    dnsQueries: [],
    latencySketch: sketchOf([10, 20]),
    latencyCount: 2,
    latencySumMs: 30,
    latencyMinMs: 10,
    latencyMaxMs: 20,
    firstSeenMs: at,
    lastSeenMs: at,
    source: 'hubble',
    ...extra,
  };
}

const batchAt = (at: number, extra: Partial<CallRow> = {}): IngestBatch => ({
  endpoints: [pod('default', 'tiefighter', at), pod('default', 'deathstar', at)],
  calls: [call('default/tiefighter', 'default/deathstar', at, extra)],
  maxFlowTimeMs: at,
});

interface StoredCall {
  flows: number;
  connections: number;
  requests: number;
  errors: number;
  errorRate: number;
  s200: number;
  s503: number;
  post: number;
  p50: number;
  count: number;
  max: number;
  mean: number;
  firstSeen: string;
  lastSeen: string;
  createdSeq: number;
  changeSeq: number;
}

const READ_CALL = `
MATCH (:Pod {id: 'default/tiefighter'})-[r:CALLS]->(:Pod {id: 'default/deathstar'})
RETURN r.flows AS flows, r.connections AS connections, r.requests AS requests, r.errors AS errors, r.errorRate AS errorRate,
       r.status_200 AS s200, r.status_503 AS s503, r.method_POST AS post, r.latencyP50Ms AS p50, r.latencyCount AS count,
       r.latencyMaxMs AS max, r.latencyMeanMs AS mean, r.firstSeen AS firstSeen, r.lastSeen AS lastSeen,
       r.createdSeq AS createdSeq, r.changeSeq AS changeSeq`;

describe('writeIngestBatch (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(async () => {
    executor = testExecutor();
  });
  beforeEach(async () => resetGraph(executor));
  afterAll(async () => executor.close());

  it('creates pods and a CALLS relationship holding the counts of the batch', async () => {
    const res = await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c1', runId: 'r1', batchSeq: 1 });
    expect(res.applied).toBe(true);
    const row = await readOneRow<StoredCall>(executor, READ_CALL);
    expect(row).toMatchObject({
      flows: 4,
      connections: 1,
      requests: 2,
      errors: 1,
      errorRate: 0.5,
      s200: 1,
      s503: 1,
      post: 2,
      count: 2,
      max: 20,
      mean: 15,
    });
    expect(row.p50).toBeGreaterThan(9.8);
    expect(row.p50).toBeLessThan(20.3);
    expect(row.firstSeen).toBe('2022-09-22T07:15:13.011Z');
    const labels = await executor.read<{ labels: string[] }>("MATCH (p {id: 'default/deathstar'}) RETURN labels(p) AS labels");
    expect(labels[0]!.labels.sort()).toEqual(['Endpoint', 'Pod']);
  });

  it('adds the deltas of later batches, merges latency and widens first/last seen', async () => {
    await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c1', runId: 'r1', batchSeq: 1 });
    await writeIngestBatch(
      executor,
      batchAt(T0 + 5000, { latencySketch: sketchOf([100, 100]), latencyCount: 2, latencySumMs: 200, latencyMinMs: 100, latencyMaxMs: 100 }),
      {
        collectorId: 'c1',
        runId: 'r1',
        batchSeq: 2,
      },
    );
    await writeIngestBatch(executor, batchAt(T0 - 5000), { collectorId: 'c1', runId: 'r1', batchSeq: 3 });
    const row = await readOneRow<StoredCall>(executor, READ_CALL);
    expect(row).toMatchObject({ flows: 12, connections: 3, requests: 6, errors: 3, s200: 3, s503: 3, post: 6, count: 6, max: 100 });
    expect(row.mean).toBeCloseTo((30 + 200 + 30) / 6);
    expect(row.firstSeen).toBe(new Date(T0 - 5000).toISOString());
    expect(row.lastSeen).toBe(new Date(T0 + 5000).toISOString());
    expect(row.changeSeq).toBeGreaterThan(row.createdSeq);
  });

  it('keeps the stored held-bucket snapshot when a batch brings only the changes since it, and replaces or removes it when told', async () => {
    const base = new Int8Array([1, 2, 3]);
    const resume = (extra: Partial<ResumePoint>): ResumePoint => ({
      watermarkMs: T0,
      overlapMs: 2000,
      committedKeys: new Int8Array(0),
      ...extra,
    });
    const write = (batchSeq: number, point: ResumePoint) =>
      writeIngestBatch(executor, { ...batchAt(T0), resume: point }, { collectorId: 'held', runId: 'r', batchSeq });
    await write(1, resume({ heldActivity: base, heldActivityDelta: new Int8Array(0) }));
    expect(await readResumePoint(executor, 'held')).toEqual(resume({ heldActivity: base }));
    await write(2, resume({ heldActivityBaseKept: true, heldActivityDelta: new Int8Array([9, 9]) }));
    expect(await readResumePoint(executor, 'held')).toEqual(resume({ heldActivity: base, heldActivityDelta: new Int8Array([9, 9]) }));
    await write(3, resume({ heldActivityBaseKept: true, heldActivityDelta: new Int8Array([8]) }));
    expect(await readResumePoint(executor, 'held')).toEqual(resume({ heldActivity: base, heldActivityDelta: new Int8Array([8]) }));
    // A new base comes with no changes: the stored ones go.
    await write(4, resume({ heldActivity: new Int8Array([4]), heldActivityDelta: new Int8Array(0) }));
    expect(await readResumePoint(executor, 'held')).toEqual(resume({ heldActivity: new Int8Array([4]) }));
    // Nothing held: both go.
    await write(5, resume({ heldActivity: new Int8Array(0), heldActivityDelta: new Int8Array(0) }));
    expect(await readResumePoint(executor, 'held')).toEqual(resume({}));
  });

  it('skips a batch this run already committed, so a retry after an unknown commit counts once', async () => {
    await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c1', runId: 'r1', batchSeq: 7 });
    const retry = await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c1', runId: 'r1', batchSeq: 7 });
    expect(retry.applied).toBe(false);
    const row = await readOneRow<StoredCall>(executor, READ_CALL);
    expect(row.flows).toBe(4);
    // A new run of the same collector starts its sequence again.
    const newRun = await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c1', runId: 'r2', batchSeq: 1 });
    expect(newRun.applied).toBe(true);
    expect((await executor.read<StoredCall>(READ_CALL))[0]!.flows).toBe(8);
  });

  it('keeps one relationship per (source, destination, port, protocol, verdict)', async () => {
    const dropped = call('default/tiefighter', 'default/deathstar', T0, {
      key: callKey('default/tiefighter', 'default/deathstar', 80, 'TCP', 'DROPPED'),
      verdict: 'DROPPED',
      dropReasons: { POLICY_DENIED: 3 },
      latencySketch: null,
      latencyCount: 0,
      latencySumMs: 0,
      latencyMinMs: 0,
      latencyMaxMs: 0,
    });
    await writeIngestBatch(
      executor,
      { ...batchAt(T0), calls: [call('default/tiefighter', 'default/deathstar', T0), dropped] },
      { collectorId: 'c', runId: 'r', batchSeq: 1 },
    );
    await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c', runId: 'r', batchSeq: 2 });
    const rows = await executor.read<{ verdict: string; n: number; drops: number | null }>(
      'MATCH ()-[r:CALLS]->() RETURN r.verdict AS verdict, count(*) AS n, sum(r.drop_POLICY_DENIED) AS drops ORDER BY verdict',
    );
    expect(rows).toEqual([
      { verdict: 'DROPPED', n: 1, drops: 3 },
      { verdict: 'FORWARDED', n: 1, drops: 0 },
    ]);
  });

  it('stamps each committed batch with the next change-feed sequence and records the collector status', async () => {
    const a = await writeIngestBatch(executor, batchAt(T0), {
      collectorId: 'c9',
      runId: 'r',
      batchSeq: 1,
      collectorState: { lostEvents: 5 },
    });
    const b = await writeIngestBatch(executor, batchAt(T0 + 1), { collectorId: 'c9', runId: 'r', batchSeq: 2 });
    expect(b.seq).toBe(a.seq + 1);
    const [c] = await executor.read<{ lostEvents: number; lastFlowTime: string; lastBatch: number }>(
      "MATCH (c:Collector {id: 'c9'}) RETURN c.lostEvents AS lostEvents, c.lastFlowTime AS lastFlowTime, c.lastBatch AS lastBatch",
    );
    expect(c).toEqual({ lostEvents: 5, lastFlowTime: new Date(T0 + 1).toISOString(), lastBatch: 2 });
  });

  it('appends one change-log entry per batch, naming the calls and pods it created and counting the calls it stamped', async () => {
    const a = await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c', runId: 'r', batchSeq: 1 });
    const other = call('default/deathstar', 'default/tiefighter', T0);
    const b = await writeIngestBatch(
      executor,
      {
        ...batchAt(T0 + 1),
        endpoints: [pod('default', 'tiefighter', T0 + 1), pod('default', 'xwing', T0 + 1)],
        calls: [call('default/tiefighter', 'default/deathstar', T0 + 1), other],
      },
      { collectorId: 'c', runId: 'r', batchSeq: 2 },
    );
    const log = await executor.read<{ seq: number; kind: string; createdCalls: string[]; createdPods: string[]; stampedCalls: number }>(
      'MATCH (l:ChangeLog) RETURN l.seq AS seq, l.kind AS kind, l.createdCalls AS createdCalls, l.createdPods AS createdPods, l.stampedCalls AS stampedCalls ORDER BY seq',
    );
    expect(log).toEqual([
      {
        seq: a.seq,
        kind: 'ingest',
        createdCalls: [callKey('default/tiefighter', 'default/deathstar', 80, 'TCP', 'FORWARDED')],
        createdPods: ['default/deathstar', 'default/tiefighter'],
        stampedCalls: 1,
      },
      { seq: b.seq, kind: 'ingest', createdCalls: [other.key], createdPods: ['default/xwing'], stampedCalls: 2 },
    ]);
  });

  it('continues after the newest change-log entry when the ChangeFeed node was removed on its own, instead of failing on a logged number', async () => {
    for (let i = 1; i <= 3; i += 1) await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c', runId: 'r', batchSeq: i });
    await executor.write("MATCH (f:ChangeFeed {id: 'global'}) DELETE f");
    const next = await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c', runId: 'r', batchSeq: 4 });
    expect(next).toEqual({ applied: true, seq: 4 });
    const seqs = await executor.read<{ seq: number }>('MATCH (l:ChangeLog) RETURN l.seq AS seq ORDER BY seq');
    expect(seqs.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });

  it('trims change-log entries older than the retention, a bounded number per batch', async () => {
    for (let i = 1; i <= 14; i += 1) await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c', runId: 'r', batchSeq: i });
    // Age all but the newest two entries past the retention.
    await executor.write(
      `MATCH (l:ChangeLog) WHERE l.seq <= 12 SET l.at = datetime() - duration({milliseconds: ${CHANGE_LOG_RETENTION_MS + 60_000}})`,
    );
    const seqs = async () =>
      (await executor.read<{ seq: number }>('MATCH (l:ChangeLog) RETURN l.seq AS seq ORDER BY seq')).map((r) => r.seq);
    await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c', runId: 'r', batchSeq: 15 });
    expect(await seqs()).toEqual([11, 12, 13, 14, 15]);
    await writeIngestBatch(executor, batchAt(T0), { collectorId: 'c', runId: 'r', batchSeq: 16 });
    expect(await seqs()).toEqual([13, 14, 15, 16]);
  });

  it('keeps the flows of every committed batch in flowsIngestedTotal across runs, once per batch', async () => {
    const opts = (runId: string, batchSeq: number) => ({ collectorId: 'c-runs', runId, batchSeq, collectorState: { flowsIngested: 4 } });
    await writeIngestBatch(executor, batchAt(T0), opts('run-1', 1));
    await writeIngestBatch(executor, batchAt(T0 + 1), opts('run-1', 2));
    await writeIngestBatch(executor, batchAt(T0 + 1), opts('run-1', 2)); // a retry after an unknown commit
    await writeIngestBatch(executor, batchAt(T0 + 2), opts('run-2', 1));
    const [c] = await executor.read<{ run: number; total: number }>(
      "MATCH (c:Collector {id: 'c-runs'}) RETURN c.flowsIngested AS run, c.flowsIngestedTotal AS total",
    );
    expect(c).toEqual({ run: 4, total: 12 });
  });

  it('writes a batch larger than one statement in one transaction, endpoints first, with one batch record', async () => {
    const big: IngestBatch = {
      endpoints: Array.from({ length: 5 }, (_, i) => pod('ns', `p${i}`, T0)),
      calls: Array.from({ length: 3 }, (_, i) => call(`ns/p${i}`, `ns/p${i + 1}`, T0)),
      maxFlowTimeMs: T0,
    };
    await writeIngestBatch(executor, big, { collectorId: 'c-big', runId: 'r', batchSeq: 1, rowsPerStatement: 2 });
    const [n] = await executor.read<{ pods: number; calls: number; flows: number }>(
      'MATCH (p:Pod) WITH count(p) AS pods MATCH ()-[r:CALLS]->() RETURN pods, count(r) AS calls, sum(r.flows) AS flows',
    );
    expect(n).toEqual({ pods: 5, calls: 3, flows: 12 });
    const [c] = await executor.read<{ lastBatch: number; total: number }>(
      "MATCH (c:Collector {id: 'c-big'}) RETURN c.lastBatch AS lastBatch, c.flowsIngestedTotal AS total",
    );
    expect(c).toEqual({ lastBatch: 1, total: 12 });
  });

  it('merges HTTP method+path counts into the stored pairs, keeping at most 50 per edge and counting the requests of the others as overflow', async () => {
    const paths = (from: number, to: number, count: number) => {
      const out = [];
      for (let i = from; i < to; i++) out.push({ method: 'GET', pattern: `/p${String(i).padStart(2, '0')}`, count });
      return out;
    };
    // 40 pairs, then the same 40 again plus 15 new ones: 10 fit, 5 (3 requests each) do not; 2 requests without path.
    await writeIngestBatch(executor, batchAt(T0, { httpPaths: { paths: paths(0, 40, 1), overflowRequests: 0 } }), {
      collectorId: 'c1',
      runId: 'r1',
      batchSeq: 1,
    });
    await writeIngestBatch(
      executor,
      batchAt(T0 + 1, { httpPaths: { paths: [...paths(0, 40, 2), ...paths(40, 55, 3)], overflowRequests: 2 } }),
      {
        collectorId: 'c1',
        runId: 'r1',
        batchSeq: 2,
      },
    );
    // A later batch without HTTP paths leaves them as they are.
    await writeIngestBatch(executor, batchAt(T0 + 2), { collectorId: 'c1', runId: 'r1', batchSeq: 3 });
    const row = await readOneRow<{ paths: string[]; counts: number[]; overflow: number }>(
      executor,
      "MATCH (:Pod {id: 'default/tiefighter'})-[r:CALLS]->() RETURN r.httpPaths AS paths, r.httpPathCounts AS counts, r.httpPathsOverflow AS overflow",
    );
    expect(row.paths).toEqual(paths(0, 50, 0).map((p) => `GET ${p.pattern}`));
    expect(row.counts).toEqual([...Array(40).fill(3), ...Array(10).fill(3)]);
    expect(row.overflow).toBe(5 * 3 + 2);
  });
});
