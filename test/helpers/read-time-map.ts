import { mergeSketchList } from '../../src/model/latency-sketch';
import { readServiceMap } from '../../src/api/read-graph';
import type { TimeWindow } from '../../src/graph/cypher/api-fragments';
import {
  type MapItemRow,
  collectMapRows,
  type MapConditions,
  type MapEdgeRecord,
  type ServiceMapRecord,
  buildServiceMap,
  decodeServiceMap,
  nodeDescriptor,
} from '../../src/graph/cypher/api-map-queries';
import type { Executor } from '../../src/graph/executor';

/** A map as compared in the roll-up tests: every edge, lists sorted, p95 from merged sketches. */
export interface ComparableMap {
  totals: Omit<ServiceMapRecord, 'top'>;
  edges: MapEdgeRecord[];
}

const ALL = 1_000_000;

function comparable(
  map: ServiceMapRecord,
  p95Of: (e: MapEdgeRecord) => number | null,
  callsOf: (e: MapEdgeRecord) => number,
): ComparableMap {
  const { top, ...totals } = map;
  const edges = top.map((e) => ({
    ...e,
    verdicts: [...e.verdicts].sort(),
    ports: [...e.ports].sort((a, b) => a - b),
    protocols: [...e.protocols].sort(),
    latencyP95Ms: p95Of(e),
    calls: callsOf(e),
  }));
  return { totals: { ...totals, calls: edges.reduce((n, e) => n + e.calls, 0) }, edges };
}

/** The map as the API answers it now (WORKLOAD and NAMESPACE: from the roll-ups). */
export async function readMapNow(
  executor: Executor,
  level: 'WORKLOAD' | 'NAMESPACE',
  c: MapConditions,
  window?: TimeWindow,
): Promise<ComparableMap> {
  const { map } = await readServiceMap(executor, level, c, ALL, undefined, undefined, window);
  return comparable(
    map,
    (e) => e.latencyP95Ms,
    (e) => e.calls,
  );
}

/**
 * The same map by the read-time aggregation over every call (or every bucket of the window) that
 * the API used before roll-ups (buildServiceMap), with what roll-ups define differently computed
 * from the same pod-level data: p95 of all time from the calls' merged sketches (not the largest
 * call p95), and `calls` of a window as the most calls active in one of its buckets.
 */
export async function readMapAtReadTime(
  executor: Executor,
  level: 'WORKLOAD' | 'NAMESPACE',
  c: MapConditions,
  window?: TimeWindow,
): Promise<ComparableMap> {
  const q = buildServiceMap(level, c, ALL, undefined, window);
  const row = collectMapRows(await executor.read<MapItemRow>(q.cypher, q.params));
  const map = decodeServiceMap(row!, window !== undefined);
  const edgeId = (s: string, t: string) => `${s}->${t}`;
  if (window === undefined) {
    // The calls of a map edge are those of its two map nodes that meet the call conditions.
    const rows = await executor.read<{ s: string; t: string; sketches: string[] }>(
      `MATCH (a:Endpoint)-[r:CALLS]->(b:Endpoint)
       WHERE ($verdicts IS NULL OR r.verdict IN $verdicts) AND ($protocol IS NULL OR toUpper(r.protocol) = toUpper($protocol))
       RETURN ${nodeDescriptor(level, 'a')}.id AS s, ${nodeDescriptor(level, 'b')}.id AS t, collect(r.latencySketch) AS sketches`,
      { verdicts: c.verdicts ?? null, protocol: c.protocol ?? null },
    );
    const p95 = new Map(rows.map((r) => [edgeId(r.s, r.t), mergeSketchList(r.sketches)?.p95 ?? null]));
    return comparable(
      map,
      (e) => p95.get(edgeId(e.source.id, e.target.id)) ?? null,
      (e) => e.calls,
    );
  }
  const rows = await executor.read<{ s: string; t: string; calls: number }>(
    `MATCH (k:Activity) WHERE k.size = toInteger($size) AND k.start >= datetime({epochMillis: toInteger($since)}) AND k.start < datetime({epochMillis: toInteger($until)})
       AND ($verdicts IS NULL OR k.verdict IN $verdicts) AND ($protocol IS NULL OR toUpper(k.protocol) = toUpper($protocol))
     MATCH (a:Endpoint {id: k.sourceId}) MATCH (b:Endpoint {id: k.destinationId})
     WITH ${nodeDescriptor(level, 'a')}.id AS s, ${nodeDescriptor(level, 'b')}.id AS t, k.start AS start, count(*) AS n
     RETURN s, t, max(n) AS calls`,
    { size: window.size, since: window.sinceMs, until: window.untilMs, verdicts: c.verdicts ?? null, protocol: c.protocol ?? null },
  );
  const peak = new Map(rows.map((r) => [edgeId(r.s, r.t), r.calls]));
  return comparable(
    map,
    // Ranged, decodeServiceMap merges each edge's sketches, as the roll-ups' are.
    (e) => e.latencyP95Ms,
    (e) => peak.get(edgeId(e.source.id, e.target.id)) ?? -1,
  );
}
