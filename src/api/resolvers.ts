import type { GraphQLResolveInfo } from 'graphql';
import { type CallConditions, type CallOrderField, type DropConditions, callMatches } from '../graph/cypher/api-call-queries';
import type { EdgeConditions } from '../graph/cypher/api-fragments';
import type { PodConditions } from '../graph/cypher/api-endpoint-queries';
import { ALL_MAP_COLUMNS, type MapConditions, type MapLevel, type ServiceMapRecord } from '../graph/cypher/api-map-queries';
import type { TimeWindow } from '../graph/cypher/api-fragments';
import { parseBucketSpec, resolveRange } from '../model/time-buckets';
import { mergeSketchList } from '../model/latency-sketch';
import { DEFAULT_THRESHOLDS, diffMaps } from './diff-maps';
import { toActivitySeries } from './to-activity-series';
import type { PathRecord } from '../graph/cypher/api-path-queries';
import { type ApiContext, type ApiLimits, loaderKey } from './api-context';
import { badUserInput } from './api-errors';
import { type LabelRequirement, matchesLabelSelector } from './label-selector';
import {
  readCallsPage,
  readDependencies,
  readDropReasons,
  readObservedTraffic,
  readDrops,
  readNamespaceCalls,
  readPaths,
  readPodsPage,
  readSeriesBuckets,
  readServiceMap,
  readShortestPath,
  readStats,
} from './read-graph';
import { selectedFields } from './selected-fields';
import { type DraftKind, type DraftScope, buildPolicyDrafts } from '../policy/build-policy-drafts';
import { buildPolicyCheck } from '../policy/build-policy-check';
import { PolicyDocumentError, parsePolicyDocuments } from '../policy/parse-policy-documents';
import type { ParsedPolicySet } from '../policy/policy-model';
import { toNetworkPolicyDrafts, toPolicyCheck } from './to-policy-graphql';
import { toDag, toHubbleServiceMap } from './to-design-note-shapes';
import { type GqlEndpoint, countersWithPrefix, toCall, toCallFromRecord, toCoveredRange, toEndpoint, toKeyCounts } from './to-graphql';
import {
  ARG_DEFAULTS,
  checkFirst,
  checkHops,
  checkId,
  checkInstant,
  checkInt,
  checkNamespace,
  checkNamespaces,
  checkSelector,
  checkString,
  checkWord,
  checkWords,
  decodeCursor,
  encodeCursor,
} from './validate-args';

/** Verdicts that policy drafts allow and the impact check checks, unless the client names others. */
const DEFAULT_POLICY_VERDICTS: readonly string[] = ['FORWARDED'];

interface PolicyScopeArg {
  namespace?: string | null;
  workload?: string | null;
}

/** `networkPolicies(scope:)`: no scope is the cluster; a workload needs its namespace. */
function toPolicyScope(arg: PolicyScopeArg | null | undefined): DraftScope {
  if (!arg) return {};
  const scope: DraftScope = {};
  if (arg.namespace !== null && arg.namespace !== undefined) scope.namespace = checkNamespace(arg.namespace, 'scope.namespace');
  const workload = checkString(arg.workload, 'scope.workload');
  if (workload !== undefined) {
    if (scope.namespace === undefined) throw badUserInput('scope.workload', `"${workload}" needs scope.namespace: a workload name is unique within its namespace only`);
    scope.workload = workload;
  }
  return scope;
}

/** `drops(filter:)` and `dropReasons(filter:)`. */
function toDropConditions(f: Record<string, unknown> | null | undefined): DropConditions {
  const c: { -readonly [K in keyof DropConditions]: DropConditions[K] } = {};
  if (!f) return c;
  const namespaces = checkNamespaces(f.namespaces as string[], 'filter.namespaces');
  if (namespaces) c.namespaces = namespaces;
  const reasons = checkWords(f.reasons as string[], 'filter.reasons');
  if (reasons) c.reasons = reasons;
  const since = checkInstant(f.activeSince as string, 'filter.activeSince');
  if (since) c.activeSince = since;
  return c;
}

/** Argument shapes as GraphQL hands them over (input types of schema.graphql). */
interface EdgeFilterArg {
  protocol?: string | null;
  port?: number | null;
  verdicts?: string[] | null;
  activeSince?: string | null;
  minRequests?: number | null;
}
interface CallFilterArg extends EdgeFilterArg {
  namespaces?: string[] | null;
  source?: string | null;
  destination?: string | null;
}
interface PodFilterArg {
  namespaces?: string[] | null;
  labelSelector?: string | null;
  workload?: string | null;
  kind?: string | null;
  activeSince?: string | null;
}
interface PathFilterArg {
  verdicts?: string[] | null;
  protocol?: string | null;
  minRequests?: number | null;
}

// ---------------------------------------------------------------- argument checks (pure)

export function toEdgeConditions(f: EdgeFilterArg | null | undefined, arg: string): EdgeConditions {
  if (!f) return {};
  const c: { -readonly [K in keyof EdgeConditions]: EdgeConditions[K] } = {};
  const protocol = checkWord(f.protocol, `${arg}.protocol`);
  if (protocol !== undefined) c.protocol = protocol;
  if (f.port !== null && f.port !== undefined) c.port = checkInt(f.port, `${arg}.port`, 0, 65535, 0);
  const verdicts = checkWords(f.verdicts, `${arg}.verdicts`);
  if (verdicts !== undefined) c.verdicts = verdicts;
  const since = checkInstant(f.activeSince, `${arg}.activeSince`);
  if (since !== undefined) c.activeSince = since;
  if (f.minRequests !== null && f.minRequests !== undefined) c.minRequests = checkInt(f.minRequests, `${arg}.minRequests`, 0, Number.MAX_SAFE_INTEGER, 0);
  return c;
}

export function toCallConditions(f: CallFilterArg | null | undefined, arg: string): CallConditions {
  if (!f) return {};
  const c: { -readonly [K in keyof CallConditions]: CallConditions[K] } = { ...toEdgeConditions(f, arg) };
  const namespaces = checkNamespaces(f.namespaces, `${arg}.namespaces`);
  if (namespaces !== undefined) c.namespaces = namespaces;
  const source = checkString(f.source, `${arg}.source`);
  if (source !== undefined) c.source = source;
  const destination = checkString(f.destination, `${arg}.destination`);
  if (destination !== undefined) c.destination = destination;
  return c;
}

export function toPodConditions(f: PodFilterArg | null | undefined, arg: string): PodConditions & { requirements?: LabelRequirement[] } {
  if (!f) return {};
  const c: { -readonly [K in keyof PodConditions]: PodConditions[K] } & { requirements?: LabelRequirement[] } = {};
  const namespaces = checkNamespaces(f.namespaces, `${arg}.namespaces`);
  if (namespaces !== undefined) c.namespaces = namespaces;
  const selector = checkSelector(f.labelSelector, `${arg}.labelSelector`);
  if (selector !== undefined) {
    c.requirements = selector;
    c.selector = selector.map((r) => ({ key: r.key, op: r.op, values: [...r.values] }));
  }
  const workload = checkString(f.workload, `${arg}.workload`);
  if (workload !== undefined) c.workload = workload;
  const kind = checkString(f.kind, `${arg}.kind`);
  if (kind !== undefined) c.kind = kind;
  const since = checkInstant(f.activeSince, `${arg}.activeSince`);
  if (since !== undefined) c.activeSince = since;
  return c;
}

function toPathConditions(f: PathFilterArg | null | undefined, arg: string): EdgeConditions {
  return toEdgeConditions(f ? { verdicts: f.verdicts, protocol: f.protocol, minRequests: f.minRequests } : undefined, arg);
}

/** In-memory form of the pod filter, for subscriptions. */
export function podMatches(pod: GqlEndpoint, c: PodConditions & { requirements?: LabelRequirement[] }): boolean {
  if (c.namespaces && !c.namespaces.includes(pod.namespace ?? '')) return false;
  if (c.requirements && !matchesLabelSelector(pod.rawLabels, c.requirements)) return false;
  if (c.workload !== undefined && pod.workload !== c.workload && pod.workloadName !== c.workload) return false;
  if (c.kind !== undefined && pod.workloadKind !== c.kind) return false;
  if (c.activeSince !== undefined && (!pod.lastSeen || Date.parse(pod.lastSeen) < Date.parse(c.activeSince))) return false;
  return true;
}

// ---------------------------------------------------------------- time ranges

interface TimeRangeArg {
  since?: string | null;
  until?: string | null;
}

/**
 * The bucket-aligned window answering a `range` argument (undefined when none was given). Refuses
 * a range the store cannot answer (buckets off, unreadable instants, an empty range), naming the argument.
 */
export function toWindow(range: TimeRangeArg | null | undefined, arg: string, limits: Pick<ApiLimits, 'buckets' | 'now'>): TimeWindow | undefined {
  if (range === null || range === undefined) return undefined;
  if (typeof range.since !== 'string') throw badUserInput(`${arg}.since`, 'is required');
  const covered = resolveRange(limits.buckets ?? [], range.since, range.until ?? undefined, (limits.now ?? Date.now)());
  if ('field' in covered) throw badUserInput(covered.field === 'range' ? arg : `${arg}.${covered.field}`, covered.message);
  return { size: covered.sizeMs / 1000, sinceMs: covered.sinceMs, untilMs: covered.untilMs };
}

/** toWindow of a required range argument. */
function requireWindow(range: TimeRangeArg | null | undefined, arg: string, limits: Pick<ApiLimits, 'buckets' | 'now'>): TimeWindow {
  const window = toWindow(range, arg, limits);
  if (window === undefined) throw badUserInput(arg, 'is required');
  return window;
}

/** A service map's nodes and edges as the schema's ServiceMap, from the read records. */
function toServiceMap(level: MapLevel, map: ServiceMapRecord, podCounts: Map<string, number>, window: TimeWindow | undefined) {
  const nodes = new Map<string, { id: string; kind: string; name: string; namespace: string | null; pods: number }>();
  for (const e of map.top) {
    for (const n of [e.source, e.target]) {
      if (nodes.has(n.id)) continue;
      const isPod = n.kind === 'pod';
      nodes.set(n.id, {
        id: n.id,
        kind: (n.kind ?? 'ip').toUpperCase(),
        name: n.name ?? n.id,
        namespace: n.namespace,
        pods: !isPod ? 0 : level === 'POD' ? 1 : (podCounts.get(n.id) ?? 0),
      });
    }
  }
  const seconds = window === undefined ? null : (window.untilMs - window.sinceMs) / 1000;
  return {
    level,
    nodes: [...nodes.values()],
    edges: map.top.map((e) => ({
      id: `${e.source.id}->${e.target.id}`,
      source: e.source.id,
      target: e.target.id,
      flows: e.flows,
      requests: e.requests,
      errors: e.errors,
      errorRate: e.responses > 0 ? e.errors / e.responses : 0,
      verdicts: [...e.verdicts].sort(),
      ports: [...e.ports].sort((a, b) => a - b),
      protocols: [...e.protocols].sort(),
      latencyP95Ms: e.latencySketches !== undefined ? (mergeSketchList(e.latencySketches)?.p95 ?? null) : e.latencyP95Ms,
      calls: e.calls,
      lastSeen: e.lastSeen,
      flowsPerSecond: seconds === null ? null : e.flows / seconds,
      requestsPerSecond: seconds === null ? null : e.requests / seconds,
    })),
    totals: { nodes: map.nodeCount, edges: map.edgeCount, calls: map.calls, flows: map.flows, requests: map.requests, errors: map.errors },
    truncated: map.edgeCount > map.top.length,
    range: window === undefined ? null : toCoveredRange(window),
  };
}

/** The map conditions of a serviceMap or mapDiff filter. */
function toMapConditions(f: Record<string, unknown>, arg: string): MapConditions {
  const edge = toEdgeConditions({ verdicts: f.verdicts as string[], protocol: f.protocol as string, activeSince: f.activeSince as string }, arg);
  return {
    namespaces: checkNamespaces(f.namespaces as string[], `${arg}.namespaces`),
    verdicts: edge.verdicts,
    protocol: edge.protocol,
    activeSince: edge.activeSince,
    includeExternal: (f.includeExternal as boolean | null) ?? true,
  };
}

function checkLevel(value: unknown, arg: string): MapLevel {
  const level = ((value as string | null) ?? 'WORKLOAD') as MapLevel;
  if (!LEVELS.includes(level)) throw badUserInput(arg, `unknown level ${level}`);
  return level;
}

function checkThreshold(value: unknown, arg: string, fallback: number): number {
  if (value === null || value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw badUserInput(arg, `must be a number of at least 0, got ${String(value)}`);
  return value;
}

// ---------------------------------------------------------------- helpers

function connection<T>(items: T[], skip: number, total: number) {
  const edges = items.map((node, i) => ({ cursor: encodeCursor(skip + i), node }));
  return {
    edges,
    nodes: items,
    totalCount: total,
    pageInfo: {
      hasNextPage: skip + items.length < total,
      hasPreviousPage: skip > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

function toPath(p: PathRecord) {
  const endpoints = p.endpoints.map(toEndpoint);
  return { length: p.hops.length, endpoints, hops: p.hops.map((h, i) => toCall(h, endpoints[i], endpoints[i + 1])) };
}

async function requireEndpointRecord(ctx: ApiContext, id: string, arg: string): Promise<NonNullable<Awaited<ReturnType<ApiContext['loaders']['endpoints']['load']>>>> {
  const rec = await ctx.loaders.endpoints.load(checkId(id, arg));
  if (!rec) throw badUserInput(arg, `no endpoint with id "${id.length > 80 ? `${id.slice(0, 77)}...` : id}"`);
  return rec;
}

async function requireEndpoint(ctx: ApiContext, id: string, arg: string): Promise<GqlEndpoint> {
  return toEndpoint(await requireEndpointRecord(ctx, id, arg));
}

function withRange<C extends { readonly range?: TimeWindow }>(c: C, window: TimeWindow | undefined): C {
  return window === undefined ? c : { ...c, range: window };
}

function laterOf(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

const DIRECTIONS = { ASC: 'ASC', DESC: 'DESC' } as const;
const ORDER_FIELDS: readonly CallOrderField[] = ['REQUESTS', 'ERROR_RATE', 'LATENCY_P95', 'LAST_SEEN', 'FLOWS'];
const LEVELS: readonly MapLevel[] = ['POD', 'WORKLOAD', 'NAMESPACE'];

type Args = Record<string, never> & Record<string, unknown>;
type Resolver = (parent: unknown, args: Args, ctx: ApiContext, info: GraphQLResolveInfo) => unknown;

function endpointFieldResolvers(): Record<string, Resolver> {
  const calls = (direction: 'outgoing' | 'incoming'): Resolver => async (parent, args, ctx) => {
    const conditions = withRange(toEdgeConditions(args.filter as EdgeFilterArg, 'filter'), toWindow(args.range as TimeRangeArg, 'range', ctx.limits));
    const limit = checkFirst(args.first as number, 'first', ctx.limits.maxPageSize);
    const records = await ctx.loaders.calls.get(loaderKey(direction, conditions, limit)).load((parent as GqlEndpoint).id);
    return records.map(toCallFromRecord);
  };
  const neighbours = (direction: 'callers' | 'callees'): Resolver => async (parent, args, ctx) => {
    const conditions = withRange(toEdgeConditions(args.filter as EdgeFilterArg, 'filter'), toWindow(args.range as TimeRangeArg, 'range', ctx.limits));
    const limit = checkFirst(args.first as number, 'first', ctx.limits.maxPageSize);
    const records = await ctx.loaders.neighbours.get(loaderKey(direction, conditions, limit)).load((parent as GqlEndpoint).id);
    return records.map(toEndpoint);
  };
  return { outgoing: calls('outgoing'), incoming: calls('incoming'), callers: neighbours('callers'), callees: neighbours('callees') };
}

/** The resolvers of schema.graphql, by type and field. */
export function buildResolvers(): Record<string, Record<string, Resolver | { subscribe: Resolver; resolve: Resolver }>> {
  return {
    Query: {
      health: () => 'ok',

      pods: async (_p, args, ctx) => {
        const c = toPodConditions(args.filter as PodFilterArg, 'filter');
        const first = checkFirst(args.first as number, 'first', ctx.limits.maxPageSize);
        const skip = decodeCursor(args.after as string, 'after');
        const { total, pods } = await readPodsPage(ctx.reader, c, skip, first);
        return connection(pods.map(toEndpoint), skip, total);
      },

      pod: async (_p, args, ctx) => {
        const e = await requireEndpoint(ctx, args.id as string, 'id');
        if (e.kind !== 'POD') throw badUserInput('id', `"${e.id}" is not a pod (it is ${e.kind.toLowerCase()}); use endpoint(id:)`);
        return e;
      },

      endpoint: async (_p, args, ctx) => requireEndpoint(ctx, args.id as string, 'id'),

      calls: async (_p, args, ctx) => {
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const c = withRange(toCallConditions(args.filter as CallFilterArg, 'filter'), window);
        const order = (args.orderBy as { field?: string; direction?: string } | null) ?? {};
        const field = (order.field ?? 'REQUESTS') as CallOrderField;
        if (!ORDER_FIELDS.includes(field)) throw badUserInput('orderBy.field', `unknown field ${field}`);
        const direction = DIRECTIONS[(order.direction ?? 'DESC') as 'ASC' | 'DESC'] ?? 'DESC';
        const first = checkFirst(args.first as number, 'first', ctx.limits.maxPageSize);
        const skip = decodeCursor(args.after as string, 'after');
        const { total, calls } = await readCallsPage(ctx.reader, c, { field, direction }, skip, first);
        return { ...connection(calls.map(toCallFromRecord), skip, total), range: window === undefined ? null : toCoveredRange(window) };
      },

      serviceMap: async (_p, args, ctx, info) => {
        const f = (args.filter as Record<string, unknown> | null) ?? {};
        const level = checkLevel(f.level, 'filter.level');
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const conditions = toMapConditions(f, 'filter');
        const topN = checkFirst(f.topN as number, 'filter.topN', ctx.limits.maxPageSize, ARG_DEFAULTS.topN);
        const wanted = selectedFields(info, ['edges']);
        const columns = {
          verdicts: wanted.has('verdicts'),
          ports: wanted.has('ports'),
          protocols: wanted.has('protocols'),
          latencyP95Ms: wanted.has('latencyP95Ms'),
          lastSeen: wanted.has('lastSeen'),
        };
        // A ranged map is not cached: relative ranges move with the clock.
        const { map, podCounts } = await readServiceMap(ctx.reader, level, conditions, topN, columns, window === undefined ? ctx.mapCache : undefined, window);
        return toServiceMap(level, map, podCounts, window);
      },

      mapDiff: async (_p, args, ctx) => {
        const level = checkLevel(args.level, 'level');
        const before = requireWindow(args.before as TimeRangeArg, 'before', ctx.limits);
        const after = requireWindow(args.after as TimeRangeArg, 'after', ctx.limits);
        const conditions = toMapConditions((args.filter as Record<string, unknown> | null) ?? {}, 'filter');
        const t = (args.thresholds as Record<string, unknown> | null) ?? {};
        const thresholds = {
          requestRate: checkThreshold(t.requestRate, 'thresholds.requestRate', DEFAULT_THRESHOLDS.requestRate),
          errorRate: checkThreshold(t.errorRate, 'thresholds.errorRate', DEFAULT_THRESHOLDS.errorRate),
          latencyP95: checkThreshold(t.latencyP95, 'thresholds.latencyP95', DEFAULT_THRESHOLDS.latencyP95),
        };
        // Every edge of both maps is compared; the lists answered are capped at the page size.
        const all = 2_147_483_647;
        const read = async (w: TimeWindow) => {
          const { map, podCounts } = await readServiceMap(ctx.reader, level, conditions, all, ALL_MAP_COLUMNS, undefined, w);
          return toServiceMap(level, map, podCounts, w);
        };
        const [b, a] = await Promise.all([read(before), read(after)]);
        const diff = diffMaps(b, a, thresholds);
        const cap = <T>(list: T[]) => list.slice(0, ctx.limits.maxPageSize);
        return {
          level,
          before: b.range,
          after: a.range,
          addedNodes: cap(diff.addedNodes),
          removedNodes: cap(diff.removedNodes),
          addedEdges: cap(diff.addedEdges),
          removedEdges: cap(diff.removedEdges),
          changedEdges: cap(diff.changedEdges),
        };
      },

      activity: async (_p, args, ctx) => {
        const window = requireWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const key = checkString(args.key as string, 'key');
        const source = checkString(args.source as string, 'source');
        const destination = checkString(args.destination as string, 'destination');
        let edge: { key: string } | { sourceId: string; destinationId: string };
        if (key !== undefined && source === undefined && destination === undefined) edge = { key };
        else if (key === undefined && source !== undefined && destination !== undefined) edge = { sourceId: source, destinationId: destination };
        else throw badUserInput(key === undefined ? 'key' : 'source', 'give either key, or source and destination');
        const bucketMs = window.size * 1000;
        let stepMs = bucketMs;
        if (args.step !== null && args.step !== undefined) {
          const step = parseBucketSpec(`${String(args.step)}:${String(args.step)}`);
          stepMs = typeof step === 'string' || step.length === 0 ? NaN : step[0].sizeMs;
          if (!(stepMs >= bucketMs && stepMs % bucketMs === 0)) {
            throw badUserInput('step', `must be a whole multiple of the ${window.size}s buckets answering the range, such as ${window.size * 5 >= 60 ? `${(window.size * 5) / 60}m` : `${window.size * 5}s`}; got "${String(args.step)}"`);
          }
        }
        const points = Math.ceil((window.untilMs - window.sinceMs) / stepMs);
        if (points > ARG_DEFAULTS.maxSeriesPoints) throw badUserInput('step', `the range would take ${points} points; at most ${ARG_DEFAULTS.maxSeriesPoints}: give a larger step`);
        const buckets = await readSeriesBuckets(ctx.reader, edge, window);
        return { range: toCoveredRange(window), stepSeconds: stepMs / 1000, points: toActivitySeries(buckets, window, stepMs) };
      },

      hubbleServiceMap: async (_p, args, ctx) => {
        const namespace = checkNamespace(args.namespace as string, 'namespace');
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const map = toHubbleServiceMap(namespace, await readNamespaceCalls(ctx.reader, namespace, ctx.limits.maxPageSize * 10, window));
        return { ...map, range: window === undefined ? null : toCoveredRange(window) };
      },

      dag: async (_p, args, ctx) => {
        const namespace = checkNamespace(args.namespace as string, 'namespace');
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const dag = toDag(namespace, await readNamespaceCalls(ctx.reader, namespace, ctx.limits.maxPageSize * 10, window));
        return { ...dag, range: window === undefined ? null : toCoveredRange(window) };
      },

      shortestPath: async (_p, args, ctx) => {
        const from = checkId(args.from as string, 'from');
        const to = checkId(args.to as string, 'to');
        const maxHops = checkHops(args.maxHops as number, 'maxHops', ctx.limits.maxHops, ARG_DEFAULTS.shortestPathMaxHops);
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const conditions = withRange(toPathConditions(args.filter as PathFilterArg, 'filter'), window);
        const range = window === undefined ? null : toCoveredRange(window);
        if (from === to) {
          const e = await requireEndpoint(ctx, from, 'from');
          return { length: 0, endpoints: [e], hops: [], range };
        }
        const path = await readShortestPath(ctx.reader, from, to, maxHops, conditions);
        if (path) return { ...toPath(path), range };
        await requireEndpoint(ctx, from, 'from');
        await requireEndpoint(ctx, to, 'to');
        return null;
      },

      paths: async (_p, args, ctx) => {
        const from = checkId(args.from as string, 'from');
        const to = checkId(args.to as string, 'to');
        const maxHops = checkHops(args.maxHops as number, 'maxHops', ctx.limits.maxHops, ARG_DEFAULTS.pathsMaxHops);
        const limit = checkInt(args.limit as number, 'limit', 1, ctx.limits.maxPageSize, ARG_DEFAULTS.pathsLimit);
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const conditions = withRange(toPathConditions(args.filter as PathFilterArg, 'filter'), window);
        await Promise.all([requireEndpoint(ctx, from, 'from'), requireEndpoint(ctx, to, 'to')]);
        if (from === to) throw badUserInput('to', 'must differ from `from` (a simple path does not return to its start)');
        const range = window === undefined ? null : toCoveredRange(window);
        return (await readPaths(ctx.reader, from, to, maxHops, limit, conditions)).map((p) => ({ ...toPath(p), range }));
      },

      dependencies: async (_p, args, ctx) => {
        const root = await requireEndpoint(ctx, args.id as string, 'id');
        const direction = ((args.direction as string | null) ?? 'DOWNSTREAM') as 'DOWNSTREAM' | 'UPSTREAM';
        const depth = checkHops(args.depth as number, 'depth', ctx.limits.maxHops, ARG_DEFAULTS.depth);
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const conditions = withRange(toPathConditions(args.filter as PathFilterArg, 'filter'), window);
        const rootRecord = await requireEndpointRecord(ctx, root.id, 'id');
        const res = await readDependencies(ctx.reader, rootRecord, direction, depth, conditions, ctx.limits.maxPageSize);
        return {
          root,
          direction,
          nodes: res.nodes.map((n) => ({ endpoint: toEndpoint(n.endpoint), distance: n.distance })),
          calls: res.calls.map(toCallFromRecord),
          truncated: res.truncated,
          range: window === undefined ? null : toCoveredRange(window),
        };
      },

      drops: async (_p, args, ctx) => {
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const c = withRange(toDropConditions(args.filter as Record<string, unknown> | null), window);
        const first = checkFirst(args.first as number, 'first', ctx.limits.maxPageSize);
        return (await readDrops(ctx.reader, c, first)).map((rec) => {
          const call = toCallFromRecord(rec);
          const reasonCounts = countersWithPrefix(rec.call, 'drop_');
          const sum = reasonCounts.reduce((s, r) => s + r.count, 0);
          return { call, reasons: reasonCounts, total: sum > 0 ? sum : call.flows };
        });
      },

      dropReasons: async (_p, args, ctx) => {
        const window = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const rows = await readDropReasons(ctx.reader, withRange(toDropConditions(args.filter as Record<string, unknown> | null), window));
        return rows.map((r) => ({ reason: r.reason, total: r.total, calls: r.calls, lastSeen: r.lastSeen ?? null }));
      },

      networkPolicies: async (_p, args, ctx) => {
        const scope = toPolicyScope(args.scope as PolicyScopeArg | null);
        const format = args.format as 'CILIUM' | 'KUBERNETES' | null;
        const verdicts = checkWords(args.verdicts as string[] | null, 'verdicts') ?? DEFAULT_POLICY_VERDICTS;
        const range = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const edges = await readObservedTraffic(ctx.reader, { verdicts, range });
        const kinds: DraftKind[] = format === 'CILIUM' ? ['CiliumNetworkPolicy'] : format === 'KUBERNETES' ? ['NetworkPolicy'] : ['CiliumNetworkPolicy', 'NetworkPolicy'];
        return { ...toNetworkPolicyDrafts(buildPolicyDrafts(edges, { scope, verdicts, kinds })), range: range === undefined ? null : toCoveredRange(range) };
      },

      policyCheck: async (_p, args, ctx) => {
        const yaml = args.yaml as string;
        const verdicts = checkWords(args.verdicts as string[] | null, 'verdicts') ?? DEFAULT_POLICY_VERDICTS;
        const first = checkFirst(args.first as number, 'first', ctx.limits.maxPageSize);
        let set: ParsedPolicySet;
        try {
          set = parsePolicyDocuments(yaml, { source: 'yaml' });
        } catch (err) {
          if (err instanceof PolicyDocumentError) throw badUserInput('yaml', err.message);
          throw err;
        }
        const range = toWindow(args.range as TimeRangeArg, 'range', ctx.limits);
        const edges = await readObservedTraffic(ctx.reader, { verdicts, range });
        return { ...toPolicyCheck(buildPolicyCheck(set, edges, { verdicts }), first, range), range: range === undefined ? null : toCoveredRange(range) };
      },

      stats: async (_p, _args, ctx) => {
        const { counts, collectors } = await readStats(ctx.reader);
        const union = (pick: (c: (typeof collectors)[number]) => string[] | null | undefined) =>
          [...new Set(collectors.flatMap((c) => pick(c) ?? []))].sort();
        let lastFlowTime: string | null = null;
        let lastCommitAt: string | null = null;
        let ingestLagMs: number | null = null;
        for (const c of collectors) {
          lastFlowTime = laterOf(lastFlowTime, c.lastFlowTime);
          if (c.lastCommitAt && laterOf(lastCommitAt, c.lastCommitAt) === c.lastCommitAt) {
            lastCommitAt = c.lastCommitAt;
            ingestLagMs = c.lastFlowTime ? Math.max(0, Date.parse(c.lastCommitAt) - Date.parse(c.lastFlowTime)) : null;
          }
        }
        return {
          ...counts,
          lastFlowTime,
          lastCommitAt,
          ingestLagMs,
          lostEvents: collectors.reduce((s, c) => s + (c.lostEvents ?? 0), 0),
          flowsIngested: collectors.reduce((s, c) => s + (c.flowsIngested ?? 0), 0),
          flowsIngestedTotal: collectors.reduce((s, c) => s + (c.flowsIngestedTotal ?? 0), 0),
          hubbleNodesConnected: union((c) => c.hubbleNodesConnected),
          hubbleNodesUnavailable: union((c) => c.hubbleNodesUnavailable),
          unmanagedPods: union((c) => c.unmanagedPods),
          collectors: collectors.map((c) => ({
            id: c.id,
            lastFlowTime: c.lastFlowTime ?? null,
            lastCommitAt: c.lastCommitAt ?? null,
            lostEvents: c.lostEvents ?? 0,
            flowsIngested: c.flowsIngested ?? 0,
            flowsIngestedTotal: c.flowsIngestedTotal ?? 0,
            skipped: toKeyCounts(c.skippedByReason),
            fieldsDropped: toKeyCounts(c.fieldsDropped),
            deadLetterRows: c.deadLetterRows ?? 0,
            hubbleNodesConnected: c.hubbleNodesConnected ?? [],
            hubbleNodesUnavailable: c.hubbleNodesUnavailable ?? [],
            unmanagedPods: c.unmanagedPods ?? [],
          })),
        };
      },
    },

    Pod: endpointFieldResolvers(),
    ExternalEndpoint: endpointFieldResolvers(),

    Subscription: {
      callAdded: {
        subscribe: (_p, args, ctx) => {
          const c = toCallConditions(args.filter as CallFilterArg, 'filter');
          return ctx.feed.subscribe('callAdded', (call) => callMatches(call, c));
        },
        resolve: (payload) => payload,
      },
      callUpdated: {
        subscribe: (_p, args, ctx) => {
          const c = toCallConditions(args.filter as CallFilterArg, 'filter');
          return ctx.feed.subscribe('callUpdated', (call) => callMatches(call, c));
        },
        resolve: (payload) => payload,
      },
      podAdded: {
        subscribe: (_p, args, ctx) => {
          const c = toPodConditions(args.filter as PodFilterArg, 'filter');
          return ctx.feed.subscribe('podAdded', (pod) => podMatches(pod, c));
        },
        resolve: (payload) => payload,
      },
    },
  };
}
