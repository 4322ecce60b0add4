import type { CoveredRange } from './time-range';

/**
 * The shapes the map page reads from the GraphQL API (a subset of schema.graphql, as selected by
 * the queries in `../api/map-queries.ts`). Counts arrive as JSON numbers (the `Count` scalar).
 */

/** `MapLevel` of the schema. */
export type MapLevel = 'POD' | 'WORKLOAD' | 'NAMESPACE';

/** All levels, in the order the level control lists them. */
export const MAP_LEVELS: readonly MapLevel[] = ['NAMESPACE', 'WORKLOAD', 'POD'];

/** `EndpointKind` of the schema. */
export type EndpointKind = 'POD' | 'RESERVED' | 'FQDN' | 'IP';

/** `MapNode`. */
export interface ApiMapNode {
  id: string;
  kind: EndpointKind;
  name: string;
  namespace: string | null;
  pods: number;
}

/** `MapEdge`. */
export interface ApiMapEdge {
  id: string;
  source: string;
  target: string;
  flows: number;
  requests: number;
  errors: number;
  errorRate: number;
  verdicts: string[];
  ports: number[];
  protocols: string[];
  latencyP95Ms: number | null;
  calls: number;
  lastSeen: string | null;
}

/** `ServiceMap`, with the range it covers when a range was asked for. */
export interface ApiServiceMap {
  level: MapLevel;
  nodes: ApiMapNode[];
  edges: ApiMapEdge[];
  totals: { nodes: number; edges: number; calls: number; flows: number; requests: number; errors: number };
  truncated: boolean;
  range: CoveredRange | null;
}

/** `KeyCount`. */
export interface KeyCount {
  key: string;
  count: number;
}

/** An endpoint as the page selects it on calls and in lookups. */
export interface ApiEndpoint {
  id: string;
  kind: EndpointKind;
  name: string;
  namespace: string | null;
  /** Pods only. */
  workloadName?: string | null;
}

/** `Call`, with the fields the page reads. */
export interface ApiCall {
  key: string;
  source: ApiEndpoint;
  destination: ApiEndpoint;
  port: number;
  protocol: string;
  verdict: string;
  flows: number;
  requests: number;
  responses: number;
  errors: number;
  errorRate: number;
  l7Protocols: string[];
  statusCounts: KeyCount[];
  dropReasons: KeyCount[];
  latency: { p50Ms: number | null; p95Ms: number | null } | null;
  firstSeen: string | null;
  lastSeen: string | null;
}

/** An endpoint's details for the node panel (`endpoint(id)` with its calls). */
export interface ApiEndpointDetails extends ApiEndpoint {
  labels?: { key: string; value: string }[];
  workload?: string | null;
  workloadKind?: string | null;
  identity?: number | null;
  node?: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  incoming: ApiCall[];
  outgoing: ApiCall[];
}

/** `Path`. */
export interface ApiPath {
  length: number;
  endpoints: ApiEndpoint[];
  hops: ApiCall[];
}

/** `Dependencies`. */
export interface ApiDependencies {
  nodes: { endpoint: ApiEndpoint; distance: number }[];
  calls: { key: string; source: ApiEndpoint; destination: ApiEndpoint }[];
  truncated: boolean;
}
