import { mergeSketchList } from '../model/latency-sketch';
import { CALL_COUNTERS, type CallRow } from '../model/ingest-rows';

/** The map levels that are rolled up at write time (POD is the calls themselves). */
export type RollupLevel = 'WORKLOAD' | 'NAMESPACE';

export const ROLLUP_LEVELS: readonly RollupLevel[] = ['WORKLOAD', 'NAMESPACE'];

/**
 * The start of the keys of a map edge's roll-ups, `LEVEL|source|target|` (port, protocol and
 * verdict follow): the roll-up key index finds every bucket of one map edge by this prefix.
 */
export function rollupEdgeKeyPrefix(level: RollupLevel, sourceId: string, targetId: string): string {
  return `${level}|${sourceId}|${targetId}|`;
}

/** A map node as the service map names it: id, kind, caption and namespace. */
export interface MapNodeRef {
  id: string;
  kind: string;
  name: string;
  namespace: string | null;
}

/** The map node of each endpoint id, per level (read from the stored endpoints in the writing transaction). */
export type MapNodesByEndpoint = ReadonlyMap<string, Readonly<Record<RollupLevel, MapNodeRef>>>;

/**
 * One roll-up delta: the calls from map node `source` to map node `target` on one port, protocol and
 * verdict, within one bucket of flow time (`size` seconds from `startMs`) or all time (`size` 0,
 * `startMs` 0). Counts are deltas the writer adds to the stored `(:Rollup)`.
 */
export interface RollupRow {
  /** `level|source|target|port|protocol|verdict`: unique with size and start. */
  key: string;
  level: RollupLevel;
  source: MapNodeRef;
  target: MapNodeRef;
  port: number;
  protocol: string;
  verdict: string;
  size: number;
  startMs: number;
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
  /** Calls (all time) or call buckets (a bucket) this delta creates: a call counts once per roll-up bucket. */
  calls: number;
  lastSeenMs: number;
  latencySketch: string | null;
}

/** The key of an Activity bucket in the sets of created buckets: `key@sizeSeconds@startMs`. */
export function activityBucketId(key: string, size: number, startMs: number): string {
  return `${key}@${size}@${startMs}`;
}

/** What was created by the rows being rolled up: calls by key, activity buckets by activityBucketId. */
export interface CreatedByRows {
  readonly calls: ReadonlySet<string>;
  readonly buckets: ReadonlySet<string>;
}

/**
 * The roll-up deltas of call rows (pure): each call's all-time delta (none for a `bucketsOnly` row)
 * and each of its bucket deltas added into the roll-up of its two ends' map nodes, per level. A call whose end has no map node
 * (not in `nodes`) is left out: invariant of the writer, which reads every end's node first.
 * `created` says which calls and buckets are new, so that `calls` counts each once.
 */
export function buildRollupRows(calls: readonly CallRow[], nodes: MapNodesByEndpoint, created: CreatedByRows): RollupRow[] {
  // Each row with the sketches to merge into it. Counts are passed as the call or bucket row itself
  // and `calls` apart: an object spread per call and bucket was a visible part of every flush.
  const rows = new Map<string, { row: RollupRow; sketches: string[] }>();
  const add = (
    level: RollupLevel,
    call: CallRow,
    size: number,
    startMs: number,
    delta: Pick<RollupRow, 'flows' | 'connections' | 'requests' | 'responses' | 'errors' | 'lastSeenMs' | 'latencySketch'>,
    calls: number,
  ) => {
    const source = nodes.get(call.sourceId)?.[level];
    const target = nodes.get(call.destinationId)?.[level];
    if (source === undefined || target === undefined) return;
    const key = `${rollupEdgeKeyPrefix(level, source.id, target.id)}${call.port}|${call.protocol}|${call.verdict}`;
    const id = `${key}@${size}@${startMs}`;
    let entry = rows.get(id);
    if (entry === undefined) {
      const row: RollupRow = {
        key,
        level,
        source,
        target,
        port: call.port,
        protocol: call.protocol,
        verdict: call.verdict,
        size,
        startMs,
        flows: 0,
        connections: 0,
        requests: 0,
        responses: 0,
        errors: 0,
        calls: 0,
        lastSeenMs: delta.lastSeenMs,
        latencySketch: null,
      };
      entry = { row, sketches: [] };
      rows.set(id, entry);
    }
    const { row } = entry;
    for (const f of CALL_COUNTERS) row[f] += delta[f];
    row.calls += calls;
    row.lastSeenMs = Math.max(row.lastSeenMs, delta.lastSeenMs);
    if (delta.latencySketch) entry.sketches.push(delta.latencySketch);
  };
  for (const call of calls) {
    for (const level of ROLLUP_LEVELS) {
      if (call.bucketsOnly !== true) add(level, call, 0, 0, call, created.calls.has(call.key) ? 1 : 0);
      for (const b of call.activity ?? []) {
        const size = b.sizeMs / 1000;
        add(level, call, size, b.startMs, b, created.buckets.has(activityBucketId(call.key, size, b.startMs)) ? 1 : 0);
      }
    }
  }
  const out: RollupRow[] = [];
  for (const { row, sketches } of rows.values()) {
    row.latencySketch = sketches.length <= 1 ? (sketches[0] ?? null) : (mergeSketchList(sketches)?.sketch ?? null);
    out.push(row);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.size - b.size || a.startMs - b.startMs));
}
