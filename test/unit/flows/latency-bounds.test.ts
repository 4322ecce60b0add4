import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { toLatency } from '../../../src/prometheus/build-prometheus-batch';
import { http, pod } from './flow-builders';

/** The observed minimum and maximum that latency percentiles are clamped to (see latency-sketch.test.ts). */
describe('latency bounds', () => {
  it('keeps the smallest and the largest latency of each edge in the aggregator', () => {
    const client = pod('shop', 'web-1');
    const server = pod('shop', 'api-1');
    const agg = new EdgeAggregator();
    for (const ms of [5, 2, 9]) {
      agg.add(http({ client, server, type: 'RESPONSE', direction: 'EGRESS', code: 200, latencyNs: String(ms * 1e6) }));
    }
    const [call] = agg.drain().calls;
    expect(call).toMatchObject({ latencyCount: 3, latencyMinMs: 2, latencyMaxMs: 9 });
  });

  it('takes the lower bound of the lowest non-empty Prometheus bucket as the minimum', () => {
    const latency = toLatency(
      new Map([
        [0.005, 0],
        [0.01, 3],
        [0.025, 5],
        [Infinity, 5],
      ]),
    );
    expect(latency).toMatchObject({ count: 5, minMs: 5, maxMs: 25 });
  });
});
