import type { ActivityProps } from '../graph/cypher/activity-queries';
import type { TimeWindow } from '../graph/cypher/api-fragments';
import { elapsedSeconds } from '../model/time-buckets';
import { sumActivity } from './sum-activity';
import type { GqlCall } from './to-graphql';

/** One point of an activity series (schema type ActivityPoint): a call's counts within one step. */
export type ActivityPoint = Pick<GqlCall, 'flows' | 'connections' | 'requests' | 'responses' | 'errors' | 'errorRate'> & {
  time: string;
  flowsPerSecond: number;
  requestsPerSecond: number;
  latencyP95Ms: number | null;
};

/**
 * Pure: buckets (of window `w`) summed per step of `stepMs` (a multiple of the bucket size), one
 * point per step from the window's start to its end, steps without buckets as zeros.
 */
export function toActivitySeries(buckets: readonly ActivityProps[], w: TimeWindow, stepMs: number): ActivityPoint[] {
  const byStep = new Map<number, ActivityProps[]>();
  for (const b of buckets) {
    const step = w.sinceMs + Math.floor((b.start - w.sinceMs) / stepMs) * stepMs;
    const list = byStep.get(step) ?? [];
    list.push(b);
    byStep.set(step, list);
  }
  const points: ActivityPoint[] = [];
  for (let t = w.sinceMs; t < w.untilMs; t += stepMs) {
    const sum = sumActivity(byStep.get(t) ?? []);
    const seconds = elapsedSeconds({ sinceMs: t, untilMs: Math.min(t + stepMs, w.untilMs), asOfMs: w.asOfMs });
    points.push({
      time: new Date(t).toISOString(),
      flows: sum.flows as number,
      connections: sum.connections as number,
      requests: sum.requests as number,
      responses: sum.responses as number,
      errors: sum.errors as number,
      errorRate: sum.errorRate as number,
      flowsPerSecond: (sum.flows as number) / seconds,
      requestsPerSecond: (sum.requests as number) / seconds,
      latencyP95Ms: (sum.latencyP95Ms as number | null) ?? null,
    });
  }
  return points;
}
