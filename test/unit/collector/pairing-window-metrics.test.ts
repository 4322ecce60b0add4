import { Writable } from 'node:stream';
import pino from 'pino';
import { GraphFlusher } from '../../../src/collector/graph-flusher';
import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import type { FlowPipeline } from '../../../src/collector/flow-pipeline';
import type { CollectorRuntime } from '../../../src/collector/start-collector-runtime';
import { startFlowPipeline } from '../../../src/collector/start-flow-pipeline';
import { loadConfig } from '../../../src/config';
import { pod, tcp } from '../flows/flow-builders';

const client = pod('shop', 'web-1');
const server = pod('shop', 'api-1');
const START = Date.now() - 600_000;

/** The collector's flow pipeline as `collect` builds it (HG_PAIRING_WINDOW=3), with its metrics and its log lines. */
function pipeline(): { p: FlowPipeline; metrics: ReturnType<typeof createCollectorMetrics>; logs: Array<{ level: number; msg: string }> } {
  const logs: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const metrics = createCollectorMetrics();
  const runtime: CollectorRuntime = {
    collectorId: 'test',
    runId: 'run',
    metrics,
    flusher: (deltas, options) =>
      new GraphFlusher(
        deltas,
        async () => ({ applied: true, seq: 1 }),
        { flushIntervalMs: 60_000, flushMaxEdges: 1000, warnUnwrittenEdges: 1000, ...options },
        metrics,
        log,
      ),
    deadLetterRows: 0,
    lost: new AbortController().signal,
    watchHubbleNodes: () => undefined,
    stop: async () => true,
  };
  const config = loadConfig({ env: { HG_PAIRING_WINDOW: '3', HG_MAX_FLOW_AGE: '0', HG_RESUME_OVERLAP: '2s' } });
  return { p: startFlowPipeline(runtime, { config, log, source: 'file' }), metrics, logs };
}

/** TCP opens (SYN seen at the client), `spacingMs` apart in flow time from `fromMs`. */
function opens(p: FlowPipeline, count: number, fromMs: number, spacingMs: number, firstPort: number): void {
  for (let i = 0; i < count; i++) {
    const time = new Date(fromMs + i * spacingMs).toISOString();
    const syn = { src: client, dst: server, sport: firstPort + i, dport: 80, flags: { SYN: true }, isReply: false, time };
    p.ingest({ kind: 'flow', flow: tcp({ ...syn, direction: 'EGRESS' }) });
  }
}

const warnings = (logs: Array<{ level: number; msg: string }>) => logs.filter((l) => l.level === 40 && l.msg.includes('pairing window'));

describe('the pairing windows in the collector', () => {
  it('hold HG_PAIRING_WINDOW entries each, and every drain reports how far back in flow time they reach', async () => {
    const { p, metrics, logs } = pipeline();
    // Five opens 2 s apart: the window of 3 keeps the last three, 4 s of flow time.
    opens(p, 5, START, 2000, 40000);
    await p.flusher.flush();
    const text = await metrics.registry.metrics();
    expect(text).toContain('hubble_graph_pairing_window_entries{window="tcp_opens"} 3');
    expect(text).toContain('hubble_graph_pairing_window_reach_seconds{window="tcp_opens"} 4');
    expect(text).toContain('hubble_graph_pairing_window_entries{window="exchanges"} 0');
    expect(text).toContain('hubble_graph_pairing_window_reach_seconds{window="exchanges"} 0');
    // 4 s is more than the out-of-order margin (HG_RESUME_OVERLAP, 2 s): nothing to warn of.
    expect(warnings(logs)).toEqual([]);
    await p.flusher.shutdown();
  });

  it('warn once when a full window reaches back less than the out-of-order margin, and say when it reaches far enough again', async () => {
    const { p, metrics, logs } = pipeline();
    opens(p, 5, START, 500, 40000);
    await p.flusher.flush();
    expect(await metrics.registry.metrics()).toContain('hubble_graph_pairing_window_reach_seconds{window="tcp_opens"} 1');
    opens(p, 5, START + 10_000, 500, 41000);
    await p.flusher.flush();
    expect(warnings(logs)).toHaveLength(1);
    expect(warnings(logs)[0]).toMatchObject({ window: 'tcp_opens', entries: 3, reachMs: 1000, marginMs: 2000 });
    opens(p, 3, START + 20_000, 1500, 42000);
    await p.flusher.flush();
    expect(logs.filter((l) => l.level === 30 && l.msg.includes('far enough again'))).toHaveLength(1);
    await p.flusher.shutdown();
  });
});
