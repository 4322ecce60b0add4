import { FlowPipeline } from '../../../src/collector/flow-pipeline';
import { GraphFlusher } from '../../../src/collector/graph-flusher';
import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { loadConfig } from '../../../src/config';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { Flow } from '../../../src/flows/flow';
import { parseFlowTimeMs } from '../../../src/flows/flow-time';
import { generateFlows } from '../../../src/generator/generate-flows';
import type { IngestBatch, ResumePoint } from '../../../src/model/ingest-rows';
import { silentLogger } from '../../../src/logger';
import { seededRandom } from '../../../src/generator/seeded-random';
import { truthCallCounts } from '../../helpers/ground-truth';

/**
 * Crash-safe resume as a pure simulation: a collector takes a generated stream, commits some drains
 * into a store that keeps only what was committed (with the resume point, as Neo4j does in the same
 * transaction), then "dies" (everything in memory is gone); the next one starts from the stored
 * resume point and the source sends again from `watermark - overlap - warm-up`. The store must end
 * exactly at the generator's truth. The integration test does the same with SIGKILL, gRPC and Neo4j.
 */

const OVERLAP_MS = 20;
const WARMUP_MS = 50;
const config = { ...loadConfig({ env: {} }).collector, maxFlowAheadMs: 300_000, maxFlowAgeMs: 0 };

/** The counts of one stored call: the fixed counters and the keyed ones (`status_200`, ...). */
type StoredCounts = Record<'flows' | 'connections' | 'requests' | 'responses' | 'errors', number> & Record<string, number>;

/** What Neo4j keeps: the counts of committed call rows and the last committed resume point. */
class CommittedStore {
  counts: Record<string, StoredCounts> = {};
  resume: ResumePoint | undefined;
  commits = 0;

  write = async (batch: IngestBatch) => {
    for (const c of batch.calls) {
      const e = (this.counts[c.key] ??= { flows: 0, connections: 0, requests: 0, responses: 0, errors: 0 });
      e.flows += c.flows;
      e.connections += c.connections;
      e.requests += c.requests;
      e.responses += c.responses;
      e.errors += c.errors;
      const add = (prefix: string, m: Record<string, number>) => {
        for (const [k, v] of Object.entries(m)) e[`${prefix}${k}`] = (e[`${prefix}${k}`] ?? 0) + v;
      };
      add('status_', c.statusCounts);
      add('method_', c.methodCounts);
      add('rcode_', c.rcodeCounts);
      add('drop_', c.dropReasons);
    }
    if (batch.resume) this.resume = batch.resume;
    this.commits++;
    return { applied: true, seq: this.commits };
  };
}

/** A flow pipeline over `store` that, with `resume`, keeps resume points and starts from `resume.start`. */
function newCollector(store: CommittedStore, resume?: { start?: ResumePoint }): FlowPipeline {
  const metrics = createCollectorMetrics();
  const log = silentLogger();
  return new FlowPipeline({
    config,
    aggregator: new EdgeAggregator(),
    flusher: (deltas, options) =>
      new GraphFlusher(
        deltas,
        store.write,
        { flushIntervalMs: 1000, flushMaxEdges: 1000, warnUnwrittenEdges: 1_000_000, ...options },
        metrics,
        log,
      ),
    metrics,
    log,
    source: 'hubble',
    resume: resume && { overlapMs: OVERLAP_MS, start: resume.start },
    now: () => Date.UTC(2026, 0, 2),
  });
}

/** Out of order as Relay merges nodes: each flow moves up to `window` places, never across `OVERLAP_MS` of flow time. */
function disorder<T>(items: T[], random: () => number, window: number): T[] {
  const out = [...items];
  for (let i = 0; i < out.length; i++) {
    const j = Math.min(out.length - 1, i + Math.floor(random() * window));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface Sent {
  flow: Flow;
  node: string;
  timeMs: number;
}

/**
 * Runs collectors over `stream` until the end: each run commits a drain every `flushEvery` flows
 * and dies after a random number of flows (its uncommitted drains die with it), the last one runs
 * to the end and flushes. Returns the store.
 */
async function runWithCrashes(stream: Sent[], crashes: number, seed: number, window: number): Promise<CommittedStore> {
  const random = seededRandom(seed);
  const store = new CommittedStore();
  for (let run = 0; run <= crashes; run++) {
    const start = store.resume;
    const collector = newCollector(store, { start });
    const sinceMs = start ? start.watermarkMs - start.overlapMs - WARMUP_MS : -Infinity;
    // The source sends again from `since` on, in an order of its own.
    const sent = disorder(
      stream.filter((s) => s.timeMs >= sinceMs),
      random,
      window,
    );
    const last = run === crashes;
    const dieAfter = last ? Infinity : 200 + Math.floor(random() * 2500);
    const flushEvery = 50 + Math.floor(random() * 400);
    let n = 0;
    for (const s of sent) {
      collector.ingest({ kind: 'flow', flow: structuredClone(s.flow), nodeName: s.node });
      if (++n % flushEvery === 0) await collector.flusher.flush();
      if (n >= dieAfter) break;
    }
    if (last) expect(await collector.shutdown(1000)).toBe(true);
  }
  return store;
}

describe('FlowPipeline resume after a crash (simulated)', () => {
  const generated = generateFlows({ pods: 40, edges: 160, flows: 12_000, seed: 9 });
  const stream: Sent[] = [...generated].map((r) => ({ flow: r.flow, node: r.node_name, timeMs: parseFlowTimeMs(r.flow.time)! }));
  const truth = truthCallCounts(generated.truth());

  it('ends at the ground truth after 8 crashes at random points, the stream sent again in order', async () => {
    const store = await runWithCrashes(stream, 8, 1, 1);
    expect(store.counts).toEqual(truth);
  });

  it('ends at the ground truth after 8 crashes when every sending is out of order within the overlap', async () => {
    const store = await runWithCrashes(stream, 8, 2, 40);
    // Which attempt of a retried request (the same X-Request-Id) a status goes to depends on the
    // order its ends arrive in, with or without a crash; every other count does not.
    const orderFree = (counts: Record<string, Record<string, number>>) =>
      Object.fromEntries(
        Object.entries(counts).map(([k, c]) => [
          k,
          Object.fromEntries(Object.entries(c).filter(([n]) => n !== 'errors' && !n.startsWith('status_'))),
        ]),
      );
    expect(orderFree(store.counts)).toEqual(orderFree(truth));
  });

  /** One crash right between flow `cut - 1` (committed) and flow `cut`, then the rest. */
  async function crashBetween(cut: number): Promise<CommittedStore> {
    const store = new CommittedStore();
    for (const run of [0, 1]) {
      const start = store.resume;
      const collector = newCollector(store, { start });
      const sinceMs = start ? start.watermarkMs - start.overlapMs - WARMUP_MS : -Infinity;
      const sent = run === 0 ? stream.slice(0, cut) : stream.filter((s) => s.timeMs >= sinceMs);
      for (const s of sent) collector.ingest({ kind: 'flow', flow: structuredClone(s.flow), nodeName: s.node });
      if (run === 0) await collector.flusher.flush();
      else expect(await collector.shutdown(1000)).toBe(true);
    }
    return store;
  }

  const firstPair = (first: (s: Sent) => boolean, second: (s: Sent) => boolean) =>
    stream.findIndex((s, i) => i > 1000 && first(s) && second(stream[i + 1]!)) + 1;

  it('counts an HTTP request once when its client end was committed before the crash and its server end comes after', async () => {
    const isRequest = (dir: string) => (s: Sent) => s.flow.l7?.type === 'REQUEST' && s.flow.traffic_direction === dir;
    const cut = firstPair(isRequest('EGRESS'), isRequest('INGRESS'));
    expect(stream[cut]!.flow.l7?.http?.headers).toEqual(stream[cut - 1]!.flow.l7?.http?.headers);
    expect((await crashBetween(cut)).counts).toEqual(truth);
  });

  it('counts a TCP connection once when its SYN was committed at the client end and comes after the crash at the server end', async () => {
    const isSyn = (dir: string) => (s: Sent) =>
      s.flow.l4?.TCP?.flags?.SYN === true && !s.flow.l4.TCP.flags.ACK && s.flow.traffic_direction === dir;
    const cut = firstPair(isSyn('EGRESS'), isSyn('INGRESS'));
    expect((await crashBetween(cut)).counts).toEqual(truth);
  });

  it('counts twice without a resume point: the test can fail', async () => {
    const store = new CommittedStore();
    for (let run = 0; run < 2; run++) {
      const collector = newCollector(store);
      let n = 0;
      for (const s of stream) {
        collector.ingest({ kind: 'flow', flow: structuredClone(s.flow), nodeName: s.node });
        if (++n % 300 === 0) await collector.flusher.flush();
        if (run === 0 && n > 3000) break;
      }
      if (run === 1) await collector.shutdown(1000);
    }
    expect(store.counts).not.toEqual(truth);
  });

  it('holds new flows back until the committed ones of the overlap have come again', async () => {
    const store = new CommittedStore();
    const first = newCollector(store, {});
    const cut = 4000;
    for (const s of stream.slice(0, cut)) first.ingest({ kind: 'flow', flow: structuredClone(s.flow), nodeName: s.node });
    await first.flusher.flush();
    const point = store.resume!;
    expect(point.watermarkMs).toBe(stream[cut - 1]!.timeMs);
    expect(point.committedKeys.byteLength / 8).toBe(stream.slice(0, cut).filter((s) => s.timeMs >= point.watermarkMs - OVERLAP_MS).length);

    const second = newCollector(store, { start: point });
    // The newest uncommitted flow comes first, then the committed ones of the overlap.
    const resent = stream.filter((s) => s.timeMs >= point.watermarkMs - OVERLAP_MS);
    const committed = resent.filter((_, i) => i < resent.length && stream.indexOf(resent[i]!) < cut);
    second.ingest({ kind: 'flow', flow: structuredClone(stream[cut]!.flow), nodeName: stream[cut]!.node });
    expect(second.snapshot().flowsIngested).toBe(0);
    for (const s of committed) second.ingest({ kind: 'flow', flow: structuredClone(s.flow), nodeName: s.node });
    expect(second.snapshot().skippedByReason.already_committed).toBe(committed.length);
    expect(second.snapshot().flowsIngested).toBe(1);
  });
});
