import { type ApiActivitySeries, toSparkline } from '../../../ui/src/model/sparkline';

const range = { since: '2026-11-25T10:00:00.000Z', until: '2026-11-25T10:03:00.000Z', bucketSeconds: 60, seconds: 180 };
const series = (points: [number, number, number][]): ApiActivitySeries => ({
  range,
  stepSeconds: 60,
  points: points.map(([flows, requests, errors], i) => ({
    time: new Date(Date.parse(range.since) + i * 60_000).toISOString(),
    flows,
    requests,
    errors,
  })),
});

describe('the activity sparkline of an edge', () => {
  it('draws requests when the edge has L7 requests, flows otherwise, the highest value at the top', () => {
    const s = toSparkline(
      series([
        [2, 1, 0],
        [0, 0, 0],
        [8, 4, 2],
      ]),
      100,
      20,
    );
    expect(s).toMatchObject({ measure: 'requests', values: [1, 0, 4], errors: [0, 0, 2], max: 4, total: 5 });
    expect(s.line).toBe('0,15 50,20 100,0');
    expect(s.errorLine).toBe('0,20 50,20 100,10');
    const flows = toSparkline(
      series([
        [3, 0, 0],
        [6, 0, 0],
      ]),
      100,
      20,
    );
    expect(flows).toMatchObject({ measure: 'flows', values: [3, 6], max: 6 });
    // A range without activity is a flat line at the bottom, not a division by zero.
    expect(
      toSparkline(
        series([
          [0, 0, 0],
          [0, 0, 0],
        ]),
        100,
        20,
      ).line,
    ).toBe('0,20 100,20');
  });
});
