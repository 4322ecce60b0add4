import { addDnsName, normalizeDnsName } from '../model/dns-name';
import { type CallRow, type EndpointRow, emptyCallRow } from '../model/ingest-rows';

/** An endpoint as the generator expects it stored (the writer's row without its source). */
export type TruthEndpoint = Omit<EndpointRow, 'source'>;

/** An edge as the generator expects it stored: every count of the writer's row (no sketch, no source). */
export type TruthCall = Omit<CallRow, 'latencySketch' | 'source'>;

/**
 * The counts of one edge within one bucket of flow time `[bucketStartMs, bucketStartMs + bucketMs)`:
 * what the flows dated in it add (firstSeenMs/lastSeenMs of those flows, latency of the responses in it).
 */
export interface TruthBucket extends TruthCall {
  bucketStartMs: number;
}

export interface GroundTruth {
  flows: number;
  endpoints: TruthEndpoint[];
  calls: TruthCall[];
  /** With `bucketMs`: every (edge, bucket) with at least one flow, by bucket then key; summed over buckets they give `calls`. */
  buckets?: TruthBucket[];
}

/** An edge's truth with every count at zero. */
export function emptyCall(
  key: string,
  sourceId: string,
  destinationId: string,
  port: number,
  protocol: string,
  verdict: string,
): TruthCall {
  const {
    latencySketch: _sketch,
    source: _source,
    ...counts
  } = emptyCallRow({ key, sourceId, destinationId, port, protocol, verdict }, 'hubble', 0);
  return counts;
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** What the generator decided one flow means for the graph. */
export interface Effects {
  open?: boolean;
  request?: string;
  response?: { status?: number; rcode?: number; error: boolean; latencyNs?: string; method?: string };
  dnsQuery?: string;
  drop?: string;
  l7Protocol?: string;
}

/** A flow that adds nothing but its own count (a repeated observation, a plain packet). */
export const NO_EFFECTS: Effects = {};

/** Adds what one flow means to an edge's truth (`dnsSet`: the distinct names already in `t.dnsQueries`). */
export function addToTruth(t: TruthCall, dnsSet: Set<string>, timeMs: number, effects: Effects): void {
  if (t.flows === 0) t.firstSeenMs = timeMs;
  t.flows++;
  t.lastSeenMs = timeMs;
  if (effects === NO_EFFECTS) return;
  if (effects.open) t.connections++;
  if (effects.drop) bump(t.dropReasons, effects.drop);
  if (effects.l7Protocol && !t.l7Protocols.includes(effects.l7Protocol)) t.l7Protocols.push(effects.l7Protocol);
  if (effects.dnsQuery !== undefined) {
    const before = dnsSet.size;
    addDnsName(dnsSet, effects.dnsQuery);
    if (dnsSet.size > before) t.dnsQueries.push(normalizeDnsName(effects.dnsQuery));
  }
  if (effects.request !== undefined) {
    t.requests++;
    if (effects.request) bump(t.methodCounts, effects.request);
  }
  const res = effects.response;
  if (res) {
    t.responses++;
    if (res.status !== undefined) bump(t.statusCounts, String(res.status));
    if (res.rcode !== undefined) bump(t.rcodeCounts, String(res.rcode));
    if (res.error) t.errors++;
    if (res.method) bump(t.methodCounts, res.method);
    if (res.latencyNs !== undefined) {
      const ms = Number(res.latencyNs) / 1e6;
      t.latencyCount++;
      t.latencySumMs += ms;
      if (t.latencyCount === 1 || ms < t.latencyMinMs) t.latencyMinMs = ms;
      if (ms > t.latencyMaxMs) t.latencyMaxMs = ms;
    }
  }
}
