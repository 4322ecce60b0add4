import { GraphFlusher } from '../../../src/collector/graph-flusher';
import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import type { CollectorRuntime } from '../../../src/collector/start-collector-runtime';
import { startFlowPipeline } from '../../../src/collector/start-flow-pipeline';
import { loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/logger';
import { pod, tcp } from '../flows/flow-builders';

describe('the pairing windows in the collector metrics', () => {
  it('holds HG_PAIRING_WINDOW entries per window and reports after every drain how far back in flow time they reach', async () => {
    const metrics = createCollectorMetrics();
    const log = silentLogger();
    const config = loadConfig({ env: { HG_PAIRING_WINDOW: '3', HG_MAX_FLOW_AGE: '0' } });
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
      stop: async () => true,
    };
    const p = startFlowPipeline(runtime, { config, log, source: 'file' });
    const client = pod('shop', 'web-1');
    const server = pod('shop', 'api-1');
    const start = Date.now() - 60_000;
    // Five TCP opens 2 s apart: the window of 3 keeps the last three, 4 s of flow time.
    for (let i = 0; i < 5; i++) {
      const time = new Date(start + i * 2000).toISOString();
      const syn = { src: client, dst: server, sport: 40000 + i, dport: 80, flags: { SYN: true }, isReply: false, time };
      p.ingest({ kind: 'flow', flow: tcp({ ...syn, direction: 'EGRESS' }) });
    }
    await p.flusher.flush();
    const text = await metrics.registry.metrics();
    expect(text).toContain('hubble_graph_pairing_window_entries{window="tcp_opens"} 3');
    expect(text).toContain('hubble_graph_pairing_window_reach_seconds{window="tcp_opens"} 4');
    expect(text).toContain('hubble_graph_pairing_window_entries{window="exchanges"} 0');
    expect(text).toContain('hubble_graph_pairing_window_reach_seconds{window="exchanges"} 0');
    await p.flusher.shutdown();
  });
});
