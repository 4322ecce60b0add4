import { encodeSketch, mergeSketches, newLatencySketch, sketchQuantiles } from '../../../src/flows/latency-sketch';

function sketchOf(values: number[]): string {
  const s = newLatencySketch();
  for (const v of values) s.accept(v);
  return encodeSketch(s);
}

describe('latency sketches', () => {
  it('merges two encoded sketches into one whose quantiles are within 1%', () => {
    const low = Array.from({ length: 900 }, (_, i) => 1 + (i % 9));
    const high = Array.from({ length: 100 }, () => 500);
    const q = sketchQuantiles(mergeSketches(sketchOf(low), sketchOf(high))!);
    expect(q.p50).toBeGreaterThan(5 * 0.99);
    expect(q.p50).toBeLessThan(5 * 1.01);
    expect(q.p99).toBeGreaterThan(500 * 0.99);
    expect(q.p99).toBeLessThan(500 * 1.01);
  });

  it('treats null as empty on either side', () => {
    const a = sketchOf([3]);
    expect(mergeSketches(null, a)).toBe(a);
    expect(mergeSketches(a, null)).toBe(a);
    expect(mergeSketches(null, null)).toBeNull();
  });

  it('reads an empty sketch as zeros rather than NaN', () => {
    expect(sketchQuantiles(encodeSketch(newLatencySketch()))).toEqual({ p50: 0, p95: 0, p99: 0 });
  });
});
