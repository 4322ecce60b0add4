import {
  decodeSketch,
  encodeSketch,
  mergeAndSummarize,
  mergeInto,
  mergeSketchList,
  mergeSketches,
  newLatencySketch,
  sketchQuantiles,
} from '../../../src/model/latency-sketch';

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

describe('merging keeps every count, in any order', () => {
  /** Counts in an encoded sketch: its zero count and its bins. */
  const countOf = (encoded: string) => {
    const [, zeros, , bins] = encoded.split(';');
    return Number(zeros) + (bins ? bins.split(',').reduce((n, c) => n + Number(c), 0) : 0);
  };
  // Key 0 of the sketch's bins holds values of about 1 ms: a sketch whose highest bin is key 0,
  // merged into one whose bins are all below it, lost that bin in the library's own merge.
  const below = sketchOf([0.15, 0.18]);
  const upToOne = sketchOf([0.4, 1]);

  it('merges a sketch whose highest bin holds 1 ms into one of lower latencies', () => {
    expect(countOf(mergeSketches(below, upToOne)!)).toBe(4);
    expect(countOf(mergeSketches(upToOne, below)!)).toBe(4);
    expect(mergeSketches(below, upToOne)).toBe(mergeSketches(upToOne, below));
    expect(mergeAndSummarize(below, upToOne)!.p99).toBeCloseTo(0.4, 1);
  });

  it('gives the same sketch for every order of a list, as a roll-up written by several collectors needs', () => {
    const list = [below, upToOne, sketchOf([3, 1]), sketchOf([0, 0.02]), sketchOf([250, 1])];
    const orders = [list, [...list].reverse(), [list[2]!, list[0]!, list[4]!, list[1]!, list[3]!]];
    const merged = orders.map((o) => mergeSketchList(o)!.sketch);
    expect(new Set(merged).size).toBe(1);
    expect(countOf(merged[0]!)).toBe(10);
  });

  it('merges decoded sketches in place the same way', () => {
    const into = decodeSketch(below);
    mergeInto(into, decodeSketch(upToOne));
    expect(into.count).toBe(4);
    expect(encodeSketch(into)).toBe(mergeSketches(upToOne, below));
  });
});

describe('the stored form of a sketch', () => {
  it('decodes to the same bins it was encoded from, zeros included', () => {
    const s = newLatencySketch();
    for (const v of [0, 0, 0.4, 3, 3, 10.25, 999.96, 4138.2]) s.accept(v);
    const text = encodeSketch(s);
    expect(text).toMatch(/^v1;2;-?\d+;[\d,]+$/);
    expect(encodeSketch(decodeSketch(text))).toBe(text);
    expect(decodeSketch(text).count).toBe(8);
  });

  it('decodes into the same bins, count and quantiles as accepting each bin value would', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const s = newLatencySketch();
      const n = 1 + Math.floor(random() * 300);
      for (let i = 0; i < n; i++) s.accept(random() < 0.05 ? 0 : random() ** 3 * 5000);
      const text = encodeSketch(s);
      // The reference: every stored bin put back through the library's own accept.
      const [, zeros, firstKey, counts] = text.split(';');
      const reference = newLatencySketch();
      if (Number(zeros) > 0) reference.accept(0, Number(zeros));
      counts!.split(',').forEach((c, i) => {
        if (Number(c) > 0) reference.accept(reference.mapping.value(Number(firstKey) + i), Number(c));
      });
      const decoded = decodeSketch(text);
      expect(encodeSketch(decoded)).toBe(text);
      expect(decoded.count).toBe(reference.count);
      for (const q of [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1]) expect(decoded.getValueAtQuantile(q)).toBe(reference.getValueAtQuantile(q));
      const other = decodeSketch(sketchOf([1, 2, 3, 9000]));
      decoded.merge(other);
      reference.merge(decodeSketch(sketchOf([1, 2, 3, 9000])));
      expect(encodeSketch(decoded)).toBe(encodeSketch(reference));
    }
  });

  it('is much smaller than the protobuf form for a typical HTTP latency spread', () => {
    const s = newLatencySketch();
    for (let i = 0; i < 500; i++) s.accept(1 + ((i * 37) % 200));
    const proto = Buffer.from(s.toProto()).toString('base64');
    expect(encodeSketch(s).length * 4).toBeLessThan(proto.length);
  });

  it('still reads sketches stored in the protobuf form', () => {
    const s = newLatencySketch();
    for (const v of [5, 50, 500]) s.accept(v);
    const legacy = Buffer.from(s.toProto()).toString('base64');
    expect(sketchQuantiles(legacy)).toEqual(sketchQuantiles(encodeSketch(s)));
  });
});

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
});
