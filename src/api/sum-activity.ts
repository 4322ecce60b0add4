import { mergeSketchList } from '../model/latency-sketch';
import type { TimeWindow } from '../graph/cypher/api-fragments';
import type { ActivityProps } from '../graph/cypher/activity-queries';
import type { CallProps } from '../graph/cypher/api-endpoint-queries';
import { COUNTER_PREFIX } from '../graph/model';
import { CALL_COUNTERS } from '../model/ingest-rows';

/** Pure: activity buckets summed into the counts of a ranged answer. */

const COUNTERS = [...CALL_COUNTERS, 'latencyCount', 'latencySumMs'] as const;
const PREFIXES = Object.values(COUNTER_PREFIX);

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function later(a: unknown, b: unknown): string | null {
  if (typeof a !== 'string') return typeof b === 'string' ? b : null;
  if (typeof b !== 'string') return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function earlier(a: unknown, b: unknown): string | null {
  if (typeof a !== 'string') return typeof b === 'string' ? b : null;
  if (typeof b !== 'string') return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

/**
 * The sum of an edge's buckets as call properties: counters (dynamic `status_*`, `method_*`,
 * `rcode_*`, `drop_*` ones included), error rate, latency from the merged sketches (percentiles
 * clamped to the buckets' extremes), first and last flow time within them.
 */
export function sumActivity(buckets: readonly ActivityProps[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of COUNTERS) out[c] = 0;
  let minMs: number | null = null;
  let maxMs: number | null = null;
  let firstSeen: string | null = null;
  let lastSeen: string | null = null;
  for (const b of buckets) {
    for (const c of COUNTERS) out[c] = (out[c] as number) + num(b[c]);
    for (const [k, v] of Object.entries(b)) {
      if (PREFIXES.some((p) => k.startsWith(p))) out[k] = num(out[k]) + num(v);
    }
    if (num(b.latencyCount) > 0) {
      if (typeof b.latencyMinMs === 'number') minMs = minMs === null ? b.latencyMinMs : Math.min(minMs, b.latencyMinMs);
      if (typeof b.latencyMaxMs === 'number') maxMs = maxMs === null ? b.latencyMaxMs : Math.max(maxMs, b.latencyMaxMs);
    }
    firstSeen = earlier(firstSeen, b.firstSeen);
    lastSeen = later(lastSeen, b.lastSeen);
  }
  const responses = out.responses as number;
  out.errorRate = responses > 0 ? (out.errors as number) / responses : 0;
  const latency = mergeSketchList(
    buckets.map((b) => b.latencySketch as string | null),
    { minMs, maxMs },
  );
  out.latencyP50Ms = latency?.p50 ?? null;
  out.latencyP95Ms = latency?.p95 ?? null;
  out.latencyP99Ms = latency?.p99 ?? null;
  out.latencyMinMs = minMs;
  out.latencyMaxMs = maxMs;
  out.latencyMeanMs = (out.latencyCount as number) > 0 ? (out.latencySumMs as number) / (out.latencyCount as number) : null;
  out.firstSeen = firstSeen;
  out.lastSeen = lastSeen;
  return out;
}

/**
 * A call's stored properties with its counts replaced by those of its buckets in the window, and
 * the window itself (`range*` properties; to-graphql turns them into `range` and rates per second).
 */
export function rangedCallProps(call: CallProps, buckets: readonly ActivityProps[], w: TimeWindow): CallProps {
  const kept: CallProps = { key: call.key };
  for (const [k, v] of Object.entries(call)) {
    // All-time counters go: a counter absent from the buckets was zero in the range.
    if (PREFIXES.some((p) => k.startsWith(p)) || k.startsWith('latency')) continue;
    kept[k] = v;
  }
  return {
    ...kept,
    ...sumActivity(buckets),
    rangeSinceMs: w.sinceMs,
    rangeUntilMs: w.untilMs,
    rangeSize: w.size,
    rangeKeptSinceMs: w.keptSinceMs,
    rangeAsOfMs: w.asOfMs,
  };
}
