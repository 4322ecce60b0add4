import { computeSeriesDelta, resetVanishedMarks, toSeriesKey, toTargetKey } from '../../../src/prometheus/series-delta';

const s = (...pairs: [number, number][]) => pairs.map(([tMs, value]) => ({ tMs, value }));

describe('computeSeriesDelta', () => {
  it('counts a new series from 0', () => {
    expect(computeSeriesDelta(s([1000, 3], [2000, 5]), null)).toEqual({
      delta: 5,
      firstIncreaseMs: 1000,
      lastIncreaseMs: 2000,
      increases: [
        { tMs: 1000, value: 3 },
        { tMs: 2000, value: 2 },
      ],
      mark: { value: 5, tMs: 2000 },
    });
  });

  it('counts only samples after the mark, from the mark value', () => {
    const d = computeSeriesDelta(s([1000, 3], [2000, 5], [3000, 9]), { value: 5, tMs: 2000 });
    expect(d.delta).toBe(4);
    expect(d.mark).toEqual({ value: 9, tMs: 3000 });
  });

  it('treats a drop as a counter reset and counts from 0 after it', () => {
    const d = computeSeriesDelta(s([3000, 12], [4000, 2], [5000, 4]), { value: 10, tMs: 2000 });
    expect(d.delta).toBe(2 + 2 + 2);
    expect(d.increases).toEqual([
      { tMs: 3000, value: 2 },
      { tMs: 4000, value: 2 },
      { tMs: 5000, value: 2 },
    ]);
  });

  it('counts a reset between the mark and the first new sample', () => {
    expect(computeSeriesDelta(s([3000, 1]), { value: 10, tMs: 2000 }).delta).toBe(1);
  });

  it('keeps the mark when no sample is newer', () => {
    const mark = { value: 5, tMs: 2000 };
    expect(computeSeriesDelta(s([1000, 3], [2000, 5]), mark)).toEqual({
      delta: 0,
      firstIncreaseMs: null,
      lastIncreaseMs: null,
      increases: [],
      mark,
    });
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

describe('resetVanishedMarks', () => {
  it('sets to 0 the marks of series that a later successful scrape of their target no longer had', () => {
    const target = toTargetKey({ job: 'kubernetes-endpoints', instance: '10.0.0.1:9965' });
    const other = toTargetKey({ job: 'kubernetes-endpoints', instance: '10.0.0.2:9965' });
    const marks = new Map([
      ['gone', { value: 3, tMs: 1000, target }],
      ['present', { value: 5, tMs: 2000, target }],
      ['target-down', { value: 7, tMs: 1000, target: other }],
      ['no-target', { value: 9, tMs: 1000 }],
    ]);
    expect(resetVanishedMarks(marks, new Map([[target, 2000]]))).toBe(1);
    expect(marks.get('gone')).toEqual({ value: 0, tMs: 1000, target });
    expect(marks.get('present')?.value).toBe(5);
    expect(marks.get('target-down')?.value).toBe(7);
    expect(marks.get('no-target')?.value).toBe(9);
  });

  it('lets a series that came back at its old value count from 0', () => {
    const mark = { value: 0, tMs: 1000 };
    expect(computeSeriesDelta(s([9000, 3]), mark).delta).toBe(3);
  });
});

describe('computeSeriesDelta with scrape times', () => {
  it('counts from 0 a series that a scrape between two of its samples did not have', () => {
    // Last counted 3 at t=1000; scrapes at 2000 and 3000 lacked it; back at 3 at t=4000.
    expect(computeSeriesDelta(s([4000, 3], [5000, 4]), { value: 3, tMs: 1000 }, undefined, [1000, 2000, 3000, 4000, 5000]).delta).toBe(4);
  });

  it('counts only the increase when every scrape had the series', () => {
    expect(computeSeriesDelta(s([2000, 4], [3000, 6]), { value: 3, tMs: 1000 }, undefined, [1000, 2000, 3000]).delta).toBe(3);
  });
});
