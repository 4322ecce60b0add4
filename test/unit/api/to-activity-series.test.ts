import type { ActivityProps } from '../../../src/graph/cypher/activity-queries';
import { toActivitySeries } from '../../../src/api/to-activity-series';

const MIN = 60_000;
const since = Date.UTC(2026, 10, 25, 12, 0);

/** A minute bucket of `flows` flows and as many requests. */
function minute(start: number, flows: number): ActivityProps {
  return { key: 'a|b|80|TCP|FORWARDED', size: 60, start, flows, requests: flows };
}

describe('toActivitySeries', () => {
  it('gives each step its rate over the step, and the open last step its rate over the part that has passed', () => {
    const asOfMs = since + 2 * MIN + 15_000;
    const w = { size: 60, sinceMs: since, untilMs: since + 3 * MIN, asOfMs };
    const points = toActivitySeries([minute(since, 120), minute(since + MIN, 60), minute(since + 2 * MIN, 30)], w, MIN);
    expect(points.map((p) => [p.time, p.flows, p.flowsPerSecond, p.requestsPerSecond])).toEqual([
      ['2026-11-25T12:00:00.000Z', 120, 2, 2],
      ['2026-11-25T12:01:00.000Z', 60, 1, 1],
      // 30 flows in the 15 s of the open minute, not in 60 s.
      ['2026-11-25T12:02:00.000Z', 30, 2, 2],
    ]);
  });
});
