import { computeSeriesDelta, toSeriesKey } from '../../../src/prometheus/series-delta';

const s = (...pairs: [number, number][]) => pairs.map(([tMs, value]) => ({ tMs, value }));

describe('computeSeriesDelta', () => {
  it('counts a new series from 0', () => {
    expect(computeSeriesDelta(s([1000, 3], [2000, 5]), null)).toEqual({ delta: 5, firstIncreaseMs: 1000, lastIncreaseMs: 2000, mark: { value: 5, tMs: 2000 } });
  });

  it('counts only samples after the mark, from the mark value', () => {
    const d = computeSeriesDelta(s([1000, 3], [2000, 5], [3000, 9]), { value: 5, tMs: 2000 });
    expect(d.delta).toBe(4);
    expect(d.mark).toEqual({ value: 9, tMs: 3000 });
  });

  it('treats a drop as a counter reset and counts from 0 after it', () => {
    expect(computeSeriesDelta(s([3000, 12], [4000, 2], [5000, 4]), { value: 10, tMs: 2000 }).delta).toBe(2 + 2 + 2);
  });

  it('counts a reset between the mark and the first new sample', () => {
    expect(computeSeriesDelta(s([3000, 1]), { value: 10, tMs: 2000 }).delta).toBe(1);
  });

  it('keeps the mark when no sample is newer', () => {
    const mark = { value: 5, tMs: 2000 };
    expect(computeSeriesDelta(s([1000, 3], [2000, 5]), mark)).toEqual({ delta: 0, firstIncreaseMs: null, lastIncreaseMs: null, mark });
  });

  it('on a first poll starts from the last sample at or before the baseline time', () => {
    const d = computeSeriesDelta(s([1000, 3], [2000, 5], [3000, 9]), null, 2000);
    expect(d.delta).toBe(4);
    expect(d.firstIncreaseMs).toBe(3000);
  });

  it('on a first poll counts a series that began after the baseline time from 0', () => {
    expect(computeSeriesDelta(s([3000, 2], [4000, 7]), null, 2000).delta).toBe(7);
  });

  it('never counts twice when consecutive polls see overlapping samples', () => {
    const all = s([1000, 1], [2000, 4], [3000, 4], [4000, 6], [5000, 1], [6000, 3]);
    const first = computeSeriesDelta(all.slice(0, 3), null);
    const second = computeSeriesDelta(all.slice(1, 5), first.mark);
    const third = computeSeriesDelta(all, second.mark);
    expect(first.delta + second.delta + third.delta).toBe(4 + 2 + 1 + 2);
  });

  it('keys a series by all its labels, in any order', () => {
    expect(toSeriesKey({ a: '1', b: '2' })).toBe(toSeriesKey({ b: '2', a: '1' }));
    expect(toSeriesKey({ a: '1', instance: 'x:1' })).not.toBe(toSeriesKey({ a: '1', instance: 'y:1' }));
    expect(toSeriesKey({ a: '1' })).toHaveLength(16);
  });
});
