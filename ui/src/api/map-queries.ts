import type { ApiCall, ApiDependencies, ApiEndpointDetails, ApiMapNode, ApiPath, ApiServiceMap, MapLevel } from '../model/api-types';
import type { ApiMapDiff } from '../model/compare-maps';
import { type ApiDrop, POLICY_DROP_REASONS, type PolicyScope } from '../model/policy-drops';
import type { ApiActivitySeries } from '../model/sparkline';
import type { ApiRange } from '../model/time-range';
import type { MapFilters } from '../model/view-state';
import { type GraphqlClient, type SubscriptionSink } from './graphql-client';

/**
 * Every read of the page. Each takes the range to read (undefined: all time); with a range the
 * query gains the API's `range` argument, and answers that report it say which range they covered.
 */

const ENDPOINT = 'id kind name namespace ... on Pod { workloadName }';
export const CALL_FIELDS = `key source { ${ENDPOINT} } destination { ${ENDPOINT} } port protocol verdict flows requests responses errors errorRate
  l7Protocols statusCounts { key count } dropReasons { key count } latency { p50Ms p95Ms } firstSeen lastSeen`;

const COVERED = 'range { since until bucketSeconds seconds keptSince }';
const MAP_NODE = 'id kind name namespace pods';
const MAP_EDGE = 'id source target flows requests errors errorRate verdicts ports protocols latencyP95Ms calls lastSeen';

/** `($range: TimeRange)` declaration and `range: $range` argument, or nothing without a range. */
function rangeParts(range: ApiRange | undefined): { decl: string; arg: string; vars: Record<string, unknown> } {
  return range ? { decl: ', $range: TimeRange', arg: ', range: $range', vars: { range } } : { decl: '', arg: '', vars: {} };
}

/** The map to draw: nodes and heaviest edges at a level. */
export async function readServiceMap(
  client: GraphqlClient,
  args: { namespaces: string[]; level: MapLevel; filters: MapFilters; topN: number },
  range: ApiRange | undefined,
): Promise<ApiServiceMap> {
  const r = rangeParts(range);
  const filter: Record<string, unknown> = { level: args.level, topN: args.topN };
  if (args.namespaces.length > 0) filter.namespaces = args.namespaces;
  if (args.filters.verdicts.length > 0) filter.verdicts = args.filters.verdicts;
  if (args.filters.protocol) filter.protocol = args.filters.protocol;
  const data = await client.query<{ serviceMap: ApiServiceMap }>(
    `query Map($filter: ServiceMapFilter${r.decl}) { serviceMap(filter: $filter${r.arg}) {
      level nodes { ${MAP_NODE} }
      edges { ${MAP_EDGE} }
      totals { nodes edges calls flows requests errors } truncated ${COVERED} } }`,
    { filter, ...r.vars },
  );
  return data.serviceMap;
}

/** Namespace names, for the namespace picker (the NAMESPACE-level map's pod nodes). */
export async function readNamespaces(client: GraphqlClient, range: ApiRange | undefined): Promise<string[]> {
  const r = rangeParts(range);
  const data = await client.query<{ serviceMap: { nodes: ApiMapNode[] } }>(
    `query Namespaces($filter: ServiceMapFilter${r.decl}) { serviceMap(filter: $filter${r.arg}) { nodes { id kind name namespace pods } } }`,
    { filter: { level: 'NAMESPACE', includeExternal: false, topN: 1000 }, ...r.vars },
  );
  return [...new Set(data.serviceMap.nodes.flatMap((n) => (n.namespace === null ? [] : [n.namespace])))].sort();
}

const DETAILS = `${ENDPOINT} firstSeen lastSeen
  ... on Pod { labels { key value } workload workloadKind identity node }
  ... on ExternalEndpoint { identity }`;

/** One endpoint with its calls both ways (the node panel at POD level, or for a non-pod node). */
export async function readEndpointDetails(client: GraphqlClient, id: string, range: ApiRange | undefined): Promise<ApiEndpointDetails> {
  const r = rangeParts(range);
  const data = await client.query<{ endpoint: ApiEndpointDetails }>(
    `query Endpoint($id: ID!${r.decl}) { endpoint(id: $id) { ${DETAILS}
      incoming(first: 200${r.arg}) { ${CALL_FIELDS} } outgoing(first: 200${r.arg}) { ${CALL_FIELDS} } } }`,
    { id, ...r.vars },
  );
  return data.endpoint;
}

/**
 * The pods of a workload, without their calls (the node panel at WORKLOAD level takes the calls
 * from `readNamespaceCalls`: pods with nested calls cost far more than the API's cost limit allows).
 */
export async function readWorkloadPods(
  client: GraphqlClient,
  namespace: string,
  workload: string,
): Promise<{ totalCount: number; nodes: Omit<ApiEndpointDetails, 'incoming' | 'outgoing'>[] }> {
  // Pods take no range: the workload's pods are those the graph knows, whatever the range shown.
  const data = await client.query<{ pods: { totalCount: number; nodes: Omit<ApiEndpointDetails, 'incoming' | 'outgoing'>[] } }>(
    `query Workload($filter: PodFilter) { pods(filter: $filter, first: 100) { totalCount nodes { id kind name namespace workloadName firstSeen lastSeen labels { key value } workload workloadKind identity node } } }`,
    { filter: { namespaces: [namespace], workload } },
  );
  return data.pods;
}

/** Calls from or to a namespace, heaviest first (the node panel at NAMESPACE level). */
export async function readNamespaceCalls(
  client: GraphqlClient,
  namespace: string,
  range: ApiRange | undefined,
): Promise<{ totalCount: number; nodes: ApiCall[] }> {
  const r = rangeParts(range);
  const data = await client.query<{ calls: { totalCount: number; nodes: ApiCall[] } }>(
    `query NamespaceCalls($filter: CallFilter${r.decl}) { calls(filter: $filter, first: 300${r.arg}) { totalCount nodes { ${CALL_FIELDS} } } }`,
    { filter: { namespaces: [namespace] }, ...r.vars },
  );
  return data.calls;
}

/** Calls from one endpoint to another (the edge panel at POD level). */
export async function readCallsBetween(
  client: GraphqlClient,
  source: string,
  destination: string,
  range: ApiRange | undefined,
): Promise<ApiCall[]> {
  const r = rangeParts(range);
  const data = await client.query<{ calls: { nodes: ApiCall[] } }>(
    `query Between($filter: CallFilter${r.decl}) { calls(filter: $filter, first: 100${r.arg}) { nodes { ${CALL_FIELDS} } } }`,
    { filter: { source, destination }, ...r.vars },
  );
  return data.calls.nodes;
}

const PATH = `length endpoints { ${ENDPOINT} } hops { key source { ${ENDPOINT} } destination { ${ENDPOINT} } port protocol verdict requests errorRate }`;

/** The shortest path and all simple paths (bounded) between two endpoints. */
export async function readPaths(
  client: GraphqlClient,
  from: string,
  to: string,
  range: ApiRange | undefined,
): Promise<{ shortestPath: ApiPath | null; paths: ApiPath[] }> {
  const r = rangeParts(range);
  return client.query<{ shortestPath: ApiPath | null; paths: ApiPath[] }>(
    `query Paths($from: ID!, $to: ID!${r.decl}) { shortestPath(from: $from, to: $to, maxHops: 8${r.arg}) { ${PATH} }
      paths(from: $from, to: $to, maxHops: 6, limit: 20${r.arg}) { ${PATH} } }`,
    { from, to, ...r.vars },
  );
}

/** What an endpoint depends on (DOWNSTREAM) or what depends on it (UPSTREAM, the blast radius). */
export async function readDependencies(
  client: GraphqlClient,
  id: string,
  direction: 'UPSTREAM' | 'DOWNSTREAM',
  range: ApiRange | undefined,
): Promise<ApiDependencies> {
  const r = rangeParts(range);
  const data = await client.query<{ dependencies: ApiDependencies }>(
    `query Deps($id: ID!, $direction: Direction!${r.decl}) { dependencies(id: $id, direction: $direction, depth: 4${r.arg}) {
      nodes { endpoint { ${ENDPOINT} } distance } calls { key source { ${ENDPOINT} } destination { ${ENDPOINT} } } truncated } }`,
    { id, direction, ...r.vars },
  );
  return data.dependencies;
}

/** Live call events (new calls and changed counters) of the namespaces shown (all when empty). */
export function subscribeCalls(
  client: GraphqlClient,
  namespaces: string[],
  sink: { added: (c: ApiCall) => void; updated: (c: ApiCall) => void; error: (e: Error) => void },
): () => void {
  const filter = namespaces.length > 0 ? { namespaces } : {};
  const added: SubscriptionSink<{ callAdded: ApiCall }> = { next: (d) => sink.added(d.callAdded), error: sink.error };
  const updated: SubscriptionSink<{ callUpdated: ApiCall }> = { next: (d) => sink.updated(d.callUpdated), error: sink.error };
  const stops = [
    client.subscribe(`subscription Added($filter: CallFilter) { callAdded(filter: $filter) { ${CALL_FIELDS} } }`, { filter }, added),
    client.subscribe(`subscription Updated($filter: CallFilter) { callUpdated(filter: $filter) { ${CALL_FIELDS} } }`, { filter }, updated),
  ];
  return () => stops.forEach((stop) => stop());
}

/** Live pod arrivals of the namespaces shown. */
export function subscribePods(
  client: GraphqlClient,
  namespaces: string[],
  sink: { added: (p: ApiEndpointDetails) => void; error: (e: Error) => void },
): () => void {
  const filter = namespaces.length > 0 ? { namespaces } : {};
  return client.subscribe<{ podAdded: ApiEndpointDetails }>(
    `subscription Pods($filter: PodFilter) { podAdded(filter: $filter) { ${ENDPOINT} firstSeen lastSeen } }`,
    { filter },
    { next: (d) => sink.added(d.podAdded), error: sink.error },
  );
}

/**
 * Drops a network policy made, by call (for the map's policy-drop edge style): map edges carry
 * verdicts, not reasons. At most `first` calls, most drops first.
 */
export async function readPolicyDrops(
  client: GraphqlClient,
  namespaces: string[],
  range: ApiRange | undefined,
  first = 500,
): Promise<ApiDrop[]> {
  const r = rangeParts(range);
  const filter: Record<string, unknown> = { reasons: POLICY_DROP_REASONS };
  if (namespaces.length > 0) filter.namespaces = namespaces;
  const data = await client.query<{ drops: ApiDrop[] }>(
    `query PolicyDrops($filter: DropFilter, $first: Int${r.decl}) { drops(filter: $filter, first: $first${r.arg}) {
      call { source { ${ENDPOINT} } destination { ${ENDPOINT} } } reasons { key count } } }`,
    { filter, first, ...r.vars },
  );
  return data.drops;
}

/** How the map changed from `before` to `after` (the API's default thresholds). */
export async function readMapDiff(
  client: GraphqlClient,
  args: { namespaces: string[]; level: MapLevel; filters: MapFilters },
  ranges: { before: ApiRange; after: ApiRange },
): Promise<ApiMapDiff> {
  const filter: Record<string, unknown> = {};
  if (args.namespaces.length > 0) filter.namespaces = args.namespaces;
  if (args.filters.verdicts.length > 0) filter.verdicts = args.filters.verdicts;
  if (args.filters.protocol) filter.protocol = args.filters.protocol;
  const data = await client.query<{ mapDiff: ApiMapDiff }>(
    `query Diff($before: TimeRange!, $after: TimeRange!, $level: MapLevel, $filter: MapDiffFilter) {
      mapDiff(before: $before, after: $after, level: $level, filter: $filter) { level
        before { since until bucketSeconds seconds keptSince } after { since until bucketSeconds seconds keptSince }
        addedNodes { id } removedNodes { ${MAP_NODE} } addedEdges { id } removedEdges { ${MAP_EDGE} }
        changedEdges { id reasons before { requests errors errorRate latencyP95Ms } } } }`,
    { ...ranges, level: args.level, filter },
  );
  return data.mapDiff;
}

const SERIES = `range { since until bucketSeconds seconds keptSince } stepSeconds points { time flows requests errors }`;

/**
 * Activity of a map edge in a range: every call from `source` to `destination`, map node ids of
 * `level` (at WORKLOAD and NAMESPACE the API reads its write-time roll-ups).
 */
export async function readEdgeActivity(
  client: GraphqlClient,
  source: string,
  destination: string,
  level: MapLevel,
  range: ApiRange,
): Promise<ApiActivitySeries> {
  const data = await client.query<{ activity: ApiActivitySeries }>(
    `query Activity($source: ID!, $destination: ID!, $level: MapLevel!, $range: TimeRange!) { activity(source: $source, destination: $destination, level: $level, range: $range) { ${SERIES} } }`,
    { source, destination, level, range },
  );
  return data.activity;
}

/** The network policy drafts of a workload or a namespace, as one YAML stream. */
export async function readPolicyDraft(
  client: GraphqlClient,
  scope: PolicyScope,
  format: 'CILIUM' | 'KUBERNETES',
): Promise<{ yaml: string; policies: { kind: string; name: string; namespace: string }[]; warnings: string[] }> {
  const data = await client.query<{
    networkPolicies: { yaml: string; policies: { kind: string; name: string; namespace: string }[]; warnings: string[] };
  }>(
    `query Policy($scope: PolicyScope, $format: PolicyFormat) { networkPolicies(scope: $scope, format: $format) { yaml policies { kind name namespace } warnings } }`,
    { scope, format },
  );
  return data.networkPolicies;
}
