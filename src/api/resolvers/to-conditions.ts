import type { CallConditions, CallOrderField, DropConditions } from '../../graph/cypher/api-call-queries';
import type { PodConditions } from '../../graph/cypher/api-endpoint-queries';
import type { EdgeConditions } from '../../graph/cypher/api-fragments';
import type { MapColumns, MapConditions, MapLevel } from '../../graph/cypher/api-map-queries';
import type { DraftScope } from '../../policy/build-policy-drafts';
import { badUserInput } from '../api-errors';
import { DEFAULT_THRESHOLDS, type DiffThresholds } from '../diff-maps';
import type {
  CallFilter,
  CallOrder,
  DiffThresholds as DiffThresholdsArg,
  DropFilter,
  EdgeFilter,
  MapDiffFilter,
  PathFilter,
  PodFilter,
  PolicyScope,
  ServiceMapFilter,
} from '../generated/graphql-types';
import type { LabelRequirement } from '../label-selector';
import {
  checkInstant,
  checkInt,
  checkNamespace,
  checkNamespaces,
  checkSelector,
  checkString,
  checkWord,
  checkWords,
} from '../validate-args';

/**
 * Pure: the filter arguments of schema.graphql (as generated from it) checked and turned into the
 * conditions the Cypher builders of src/graph/cypher take. Each throws BAD_USER_INPUT naming the
 * argument (`filter.port`, `scope.workload`, ...) that is wrong.
 */

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `EdgeFilter` (an endpoint's calls and neighbours); also the edge part of the call, path and map filters. */
export function toEdgeConditions(f: EdgeFilter | null | undefined, arg: string): EdgeConditions {
  if (!f) return {};
  const c: Mutable<EdgeConditions> = {};
  const protocol = checkWord(f.protocol, `${arg}.protocol`);
  if (protocol !== undefined) c.protocol = protocol;
  if (f.port !== null && f.port !== undefined) c.port = checkInt(f.port, `${arg}.port`, 0, 65535, 0);
  const verdicts = checkWords(f.verdicts, `${arg}.verdicts`);
  if (verdicts !== undefined) c.verdicts = verdicts;
  const since = checkInstant(f.activeSince, `${arg}.activeSince`);
  if (since !== undefined) c.activeSince = since;
  if (f.minRequests !== null && f.minRequests !== undefined)
    c.minRequests = checkInt(f.minRequests, `${arg}.minRequests`, 0, Number.MAX_SAFE_INTEGER, 0);
  return c;
}

/** `CallFilter` (`calls`, `callAdded`, `callUpdated`). */
export function toCallConditions(f: CallFilter | null | undefined, arg: string): CallConditions {
  if (!f) return {};
  const c: Mutable<CallConditions> = { ...toEdgeConditions(f, arg) };
  const namespaces = checkNamespaces(f.namespaces, `${arg}.namespaces`);
  if (namespaces !== undefined) c.namespaces = namespaces;
  const source = checkString(f.source, `${arg}.source`);
  if (source !== undefined) c.source = source;
  const destination = checkString(f.destination, `${arg}.destination`);
  if (destination !== undefined) c.destination = destination;
  return c;
}

/** Pod conditions with the parsed label selector kept for the in-memory match (podMatches). */
export type PodFilterConditions = PodConditions & { requirements?: LabelRequirement[] };

/** `PodFilter` (`pods`, `podAdded`). */
export function toPodConditions(f: PodFilter | null | undefined, arg: string): PodFilterConditions {
  if (!f) return {};
  const c: Mutable<PodFilterConditions> = {};
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

/** `PathFilter` (`shortestPath`, `paths`, `dependencies`). */
export function toPathConditions(f: PathFilter | null | undefined, arg: string): EdgeConditions {
  return toEdgeConditions(f ? { verdicts: f.verdicts, protocol: f.protocol, minRequests: f.minRequests } : undefined, arg);
}

/** `DropFilter` (`drops`, `dropReasons`). */
export function toDropConditions(f: DropFilter | null | undefined): DropConditions {
  const c: Mutable<DropConditions> = {};
  if (!f) return c;
  const namespaces = checkNamespaces(f.namespaces, 'filter.namespaces');
  if (namespaces) c.namespaces = namespaces;
  const reasons = checkWords(f.reasons, 'filter.reasons');
  if (reasons) c.reasons = reasons;
  const since = checkInstant(f.activeSince, 'filter.activeSince');
  if (since) c.activeSince = since;
  return c;
}

/** The map conditions of a `ServiceMapFilter` or `MapDiffFilter` (which has no activeSince). */
export function toMapConditions(f: MapDiffFilter & Pick<ServiceMapFilter, 'activeSince'>, arg: string): MapConditions {
  const edge = toEdgeConditions({ verdicts: f.verdicts, protocol: f.protocol, activeSince: f.activeSince }, arg);
  return {
    namespaces: checkNamespaces(f.namespaces, `${arg}.namespaces`),
    verdicts: edge.verdicts,
    protocol: edge.protocol,
    activeSince: edge.activeSince,
    includeExternal: f.includeExternal ?? true,
  };
}

const LEVELS: readonly MapLevel[] = ['POD', 'WORKLOAD', 'NAMESPACE'];

/**
 * The map edge columns to read for MapEdge fields `wanted` (selectedFields), and those in `always`
 * (what a resolver needs itself, such as `calls` for the totals): each one left out is a property
 * not read from every call or roll-up.
 */
export function toMapColumns(wanted: ReadonlySet<string>, always: Partial<MapColumns> = {}): MapColumns {
  const col = (k: keyof MapColumns) => wanted.has(k) || always[k] === true;
  return {
    verdicts: col('verdicts'),
    ports: col('ports'),
    protocols: col('protocols'),
    latencyP95Ms: col('latencyP95Ms'),
    lastSeen: col('lastSeen'),
    calls: col('calls'),
  };
}

/** A map level; WORKLOAD when none is given. */
export function checkLevel(value: MapLevel | null | undefined, arg: string): MapLevel {
  const level = value ?? 'WORKLOAD';
  if (!LEVELS.includes(level)) throw badUserInput(arg, `unknown level ${String(level)}`);
  return level;
}

function checkThreshold(value: number | null | undefined, arg: string, fallback: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw badUserInput(arg, `must be a number of at least 0, got ${String(value)}`);
  return value;
}

/** `mapDiff(thresholds:)`, each defaulting to DEFAULT_THRESHOLDS. */
export function toDiffThresholds(t: DiffThresholdsArg | null | undefined): DiffThresholds {
  return {
    requestRate: checkThreshold(t?.requestRate, 'thresholds.requestRate', DEFAULT_THRESHOLDS.requestRate),
    errorRate: checkThreshold(t?.errorRate, 'thresholds.errorRate', DEFAULT_THRESHOLDS.errorRate),
    latencyP95: checkThreshold(t?.latencyP95, 'thresholds.latencyP95', DEFAULT_THRESHOLDS.latencyP95),
  };
}

const ORDER_FIELDS: readonly CallOrderField[] = ['REQUESTS', 'ERROR_RATE', 'LATENCY_P95', 'LAST_SEEN', 'FLOWS'];

/** `calls(orderBy:)`: most requests first when absent. */
export function toCallOrder(order: CallOrder | null | undefined): { field: CallOrderField; direction: 'ASC' | 'DESC' } {
  const field = order?.field ?? 'REQUESTS';
  if (!ORDER_FIELDS.includes(field)) throw badUserInput('orderBy.field', `unknown field ${String(field)}`);
  return { field, direction: order?.direction === 'ASC' ? 'ASC' : 'DESC' };
}

/** `networkPolicies(scope:)`: no scope is the cluster; a workload needs its namespace. */
export function toPolicyScope(arg: PolicyScope | null | undefined): DraftScope {
  if (!arg) return {};
  const scope: Mutable<DraftScope> = {};
  if (arg.namespace !== null && arg.namespace !== undefined) scope.namespace = checkNamespace(arg.namespace, 'scope.namespace');
  const workload = checkString(arg.workload, 'scope.workload');
  if (workload !== undefined) {
    if (scope.namespace === undefined)
      throw badUserInput('scope.workload', `"${workload}" needs scope.namespace: a workload name is unique within its namespace only`);
    scope.workload = workload;
  }
  return scope;
}
