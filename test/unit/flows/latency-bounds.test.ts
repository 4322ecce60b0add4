import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { encodeSketch, mergeAndSummarize, newLatencySketch, sketchQuantiles } from '../../../src/flows/latency-sketch';
import { toLatency } from '../../../src/prometheus/build-prometheus-batch';
import { http, pod } from './flow-builders';

function sketchOf(values: number[]): string {
  const s = newLatencySketch();
  for (const v of values) s.accept(v);
  return encodeSketch(s);
}

/** Percentiles never leave the range of latencies actually seen (DDSketch answers bin centres). */
describe('latency percentiles within the observed minimum and maximum', () => {
  it('answers 4116.74 ms, not the bin centre 4147.36 ms, for a p99 whose largest latency was 4116.74 ms', () => {
    const sketch = sketchOf(Array.from({ length: 20 }, () => 4116.74));
    expect(sketchQuantiles(sketch).p99).toBeGreaterThan(4116.74); // why the bounds are needed
    expect(sketchQuantiles(sketch, { minMs: 4116.74, maxMs: 4116.74 })).toEqual({ p50: 4116.74, p95: 4116.74, p99: 4116.74 });
  });

  it('answers no p50 below the smallest latency', () => {
    const sketch = sketchOf([1, 1, 1]);
    expect(sketchQuantiles(sketch).p50).toBeLessThan(1);
    expect(sketchQuantiles(sketch, { minMs: 1, maxMs: 1 }).p50).toBe(1);
  });

  it('clamps the quantiles of merged sketches to the merged bounds, and leaves unknown bounds open', () => {
    const merged = mergeAndSummarize(sketchOf([4116.74, 4116.74, 4116.74]), sketchOf([1]), { minMs: 1, maxMs: 4116.74 });
    expect(merged?.p99).toBe(4116.74);
    const openBelow = mergeAndSummarize(sketchOf([1]), null, { minMs: null, maxMs: 1 });
    expect(openBelow?.p50).toBeLessThan(1);
  });

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
    const latency = toLatency(new Map([[0.005, 0], [0.01, 3], [0.025, 5], [Infinity, 5]]));
    expect(latency).toMatchObject({ count: 5, minMs: 5, maxMs: 25 });
  });
});
