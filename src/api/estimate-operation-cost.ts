import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  Kind,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isListType,
  isObjectType,
} from 'graphql';
import { ARG_DEFAULTS } from './validate-args';

/** The caps the estimate clamps arguments to (the resolvers refuse larger values anyway). */
export interface CostCaps {
  /** HG_API_MAX_HOPS: cap on maxHops and depth. */
  readonly maxHops: number;
  /** HG_API_MAX_PAGE_SIZE: cap on first, topN, limit and result sizes. */
  readonly maxPageSize: number;
}

/** Work of a query that counts or aggregates over the matching part of the graph (rows, roughly). */
const PAGE_WORK = 100;
/** Work of a query that aggregates every matching CALLS relationship (service maps). */
const SCAN_WORK = 1000;
/** Items assumed for lists the API does not bound by an argument (labels, status counts, collectors). */
const SMALL_LIST = 10;
/**
 * Fields the estimate walks at most (fragments expanded), and how deep. An operation selecting more,
 * or nested deeper (HG_API_MAX_DEPTH is at most 100), is costed as infinite: the estimate may run
 * before validation, where fragments spread inside one another can make a short document select
 * exponentially many fields, or spread themselves without end.
 */
const MAX_FIELD_VISITS = 10_000;
const MAX_WALK_DEPTH = 100;

type Args = Record<string, unknown>;

interface FieldWeight {
  /** Rows the resolver may read or produce for one call of it. */
  readonly work?: (args: Args, caps: CostCaps) => number;
  /** Items of the list the field returns, or of the lists right below it (connection, map, search result). */
  readonly items?: (args: Args, caps: CostCaps) => number;
}

const int = (v: unknown, fallback: number, min: number, max: number) => {
  const n = typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : fallback;
  return Math.min(max, Math.max(min, n));
};
const first = (a: Args, c: CostCaps) => int(a.first, Math.min(ARG_DEFAULTS.first, c.maxPageSize), 0, c.maxPageSize);
const filterArg = (a: Args) => (a.filter && typeof a.filter === 'object' ? (a.filter as Args) : {});
const topN = (a: Args, c: CostCaps) => int(filterArg(a).topN, Math.min(ARG_DEFAULTS.topN, c.maxPageSize), 0, c.maxPageSize);
const pathHops = (a: Args, c: CostCaps, fallback: number) => int(a.maxHops, Math.min(fallback, c.maxHops), 1, c.maxHops);

/**
 * Branching factor assumed for path searches. Simple paths are searched one length at a time, and
 * Neo4j expands every path of that length from the start before it knows whether it reaches the end
 * (an end it cannot reach is the worst case): their number grows like the branching factor to the
 * power of the length.
 */
const PATH_BRANCHING = 4;

/** Work of a simple-path search: per length h, the paths it may return (h hops each) plus PATH_BRANCHING^h. */
export function pathsWork(maxHops: number, limit: number): number {
  let work = 0;
  for (let h = 1; h <= maxHops; h += 1) work += h * limit + PATH_BRANCHING ** h;
  return work;
}

/**
 * A read with a `range` also reads the activity buckets of what it returns (or, for maps, scans
 * buckets instead of calls: several per call when the range spans several buckets).
 */
const RANGE_FACTOR = 3;

/** `w`, costing RANGE_FACTOR times the work when the field is given a `range`. */
function ranged(w: FieldWeight): FieldWeight {
  const work = w.work;
  return { items: w.items, work: work && ((a, c) => work(a, c) * (a.range ? RANGE_FACTOR : 1)) };
}

const pagedList: FieldWeight = ranged({ work: (a, c) => PAGE_WORK + first(a, c), items: first });
const endpointList: FieldWeight = ranged({ work: first, items: first });

/** What each resolver may cost, by `Type.field` (interface fields under the interface's name). */
const WEIGHTS: Readonly<Record<string, FieldWeight>> = {
  'Query.pods': pagedList,
  'Query.calls': pagedList,
  'Query.drops': pagedList,
  'Query.pod': { work: () => 1 },
  'Query.endpoint': { work: () => 1 },
  'Query.stats': { work: () => PAGE_WORK, items: () => SMALL_LIST },
  'Query.dropReasons': { work: () => SCAN_WORK, items: () => SMALL_LIST },
  // Both read every call of the chosen verdicts (drafts need the whole cluster, see buildObservedEdges).
  'Query.networkPolicies': { work: (_a, c) => SCAN_WORK + c.maxPageSize, items: (_a, c) => c.maxPageSize },
  'Query.policyCheck': { work: (a, c) => SCAN_WORK + first(a, c), items: first },
  'Query.serviceMap': ranged({ work: (a, c) => SCAN_WORK + topN(a, c), items: topN }),
  'Query.hubbleServiceMap': ranged({ work: (_a, c) => SCAN_WORK + c.maxPageSize, items: (_a, c) => c.maxPageSize }),
  'Query.dag': ranged({ work: (_a, c) => SCAN_WORK + c.maxPageSize, items: (_a, c) => c.maxPageSize }),
  'Query.shortestPath': ranged({
    work: (a, c) => PAGE_WORK * pathHops(a, c, ARG_DEFAULTS.shortestPathMaxHops),
    items: (_a, c) => c.maxHops + 1,
  }),
  'Query.paths': ranged({
    work: (a, c) =>
      pathsWork(
        pathHops(a, c, ARG_DEFAULTS.pathsMaxHops),
        int(a.limit, Math.min(ARG_DEFAULTS.pathsLimit, c.maxPageSize), 1, c.maxPageSize),
      ),
    items: (a, c) => int(a.limit, Math.min(ARG_DEFAULTS.pathsLimit, c.maxPageSize), 1, c.maxPageSize),
  }),
  // One breadth-first query per level, each returning up to the page size of endpoints.
  'Query.dependencies': ranged({
    work: (a, c) => int(a.depth, Math.min(ARG_DEFAULTS.depth, c.maxHops), 1, c.maxHops) * c.maxPageSize,
    items: (_a, c) => c.maxPageSize,
  }),
  // Two ranged whole maps; the differences are bounded by the page size.
  'Query.mapDiff': { work: () => 2 * SCAN_WORK * RANGE_FACTOR, items: (_a, c) => c.maxPageSize },
  'Query.activity': { work: () => PAGE_WORK + ARG_DEFAULTS.maxSeriesPoints, items: () => ARG_DEFAULTS.maxSeriesPoints },
  'Path.hops': { items: (_a, c) => c.maxHops + 1 },
  'Path.endpoints': { items: (_a, c) => c.maxHops + 1 },
  'Endpoint.outgoing': endpointList,
  'Endpoint.incoming': endpointList,
  'Endpoint.callers': endpointList,
  'Endpoint.callees': endpointList,
};

function weightOf(parent: GraphQLNamedType, field: string): FieldWeight | undefined {
  const own = WEIGHTS[`${parent.name}.${field}`];
  if (own || !isObjectType(parent)) return own;
  for (const iface of parent.getInterfaces()) {
    const inherited = WEIGHTS[`${iface.name}.${field}`];
    if (inherited) return inherited;
  }
  return undefined;
}

/** The cost of one operation, and of each of its root fields (aliases included, introspection left out). */
export interface OperationCost {
  readonly cost: number;
  readonly rootFields: readonly { readonly key: string; readonly field: string; readonly cost: number }[];
}

interface SelectedField {
  readonly node: FieldNode;
  readonly parent: GraphQLNamedType;
}

/** Thrown when an operation selects more than MAX_FIELD_VISITS fields, or nests them deeper than MAX_WALK_DEPTH. */
export class TooManyFieldsError extends Error {
  constructor() {
    super(
      `the operation selects more than ${MAX_FIELD_VISITS} fields, or nests them deeper than ${MAX_WALK_DEPTH}, once its fragments are expanded`,
    );
  }
}

/**
 * The fields a selection set selects on `type`, through inline fragments and fragment spreads;
 * throws TooManyFieldsError past MAX_FIELD_VISITS fields in all.
 */
function selectionWalker(schema: GraphQLSchema, document: DocumentNode) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  let produced = 0;
  const walk = (type: GraphQLNamedType, set: SelectionSetNode, visiting: readonly string[], out: SelectedField[]): void => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        produced += 1;
        if (produced > MAX_FIELD_VISITS) throw new TooManyFieldsError();
        out.push({ node: sel, parent: type });
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const cond = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
        walk(cond ?? type, sel.selectionSet, visiting, out);
      } else {
        const frag = fragments.get(sel.name.value);
        // Validation refuses fragment cycles; the guard keeps an unvalidated document from looping.
        if (!frag || visiting.includes(frag.name.value)) continue;
        walk(schema.getType(frag.typeCondition.name.value) ?? type, frag.selectionSet, [...visiting, frag.name.value], out);
      }
    }
  };
  return (type: GraphQLNamedType, set: SelectionSetNode, depth: number): SelectedField[] => {
    if (depth > MAX_WALK_DEPTH) throw new TooManyFieldsError();
    const out: SelectedField[] = [];
    walk(type, set, [], out);
    return out;
  };
}

/**
 * The root fields of an operation (aliases count, introspection does not): cheap, so that a request
 * with too many is refused before anything costlier is done with it. Throws TooManyFieldsError. Pure.
 */
export function listRootFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): SelectedField[] {
  const root = rootType(schema, operation);
  if (!root) return [];
  return selectionWalker(schema, document)(root, operation.selectionSet, 0).filter(({ node }) => !node.name.value.startsWith('__'));
}

function rootType(schema: GraphQLSchema, operation: OperationDefinitionNode) {
  if (operation.operation === 'query') return schema.getQueryType();
  return operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getMutationType();
}

/**
 * Estimates what an operation can make the API and Neo4j do, before anything runs. Every selected
 * field costs 1, plus the rows its resolver may read (`WEIGHTS`: path searches by hops and limit,
 * dependency searches by depth, maps by a full aggregation plus top-N, pages by their size), and
 * whatever is selected under a list costs once per item the list may hold (its `first`, `topN`,
 * `limit`, or the page-size cap). Arguments are read with their variables and defaults and clamped
 * to the caps. More than MAX_FIELD_VISITS selected fields (counted as walked) cost Infinity. Pure.
 */
export function estimateOperationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Readonly<Record<string, unknown>> | undefined,
  caps: CostCaps,
): OperationCost {
  const fieldsOf = selectionWalker(schema, document);
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], { ...(rawVariables ?? {}) });
  // Variables that do not coerce fail at execution with their own error; estimate with defaults.
  const variables = coerced.coerced ?? {};

  const costOf = (node: FieldNode, parent: GraphQLNamedType, inheritedItems: number | undefined, depth: number): number => {
    const name = node.name.value;
    if (name.startsWith('__')) return 0;
    const def: GraphQLField<unknown, unknown> | undefined =
      isCompositeType(parent) && 'getFields' in parent ? parent.getFields()[name] : undefined;
    if (!def) return 1;
    let args: Args = {};
    try {
      args = getArgumentValues(def, node, variables);
    } catch {
      // A bad argument is reported by execution; the defaults stand in for it here.
    }
    const weight = weightOf(parent, name);
    const work = weight?.work?.(args, caps) ?? 0;
    const ownItems = weight?.items?.(args, caps);
    const type = getNamedType(def.type);
    if (!node.selectionSet || !isCompositeType(type)) return 1 + work;
    const isList = isListType(getNullableType(def.type));
    const times = isList ? (ownItems ?? inheritedItems ?? SMALL_LIST) : 1;
    // A connection, map or search result passes its size on to the lists right below it.
    const passOn = isList ? undefined : ownItems;
    let children = 0;
    for (const child of fieldsOf(type, node.selectionSet, depth + 1)) children += costOf(child.node, child.parent, passOn, depth + 1);
    return 1 + work + times * children;
  };

  try {
    const rootFields = listRootFields(schema, document, operation).map(({ node, parent }) => ({
      key: node.alias?.value ?? node.name.value,
      field: node.name.value,
      cost: costOf(node, parent, undefined, 1),
    }));
    return { cost: rootFields.reduce((sum, f) => sum + f.cost, 0), rootFields };
  } catch (err) {
    if (err instanceof TooManyFieldsError) return { cost: Number.POSITIVE_INFINITY, rootFields: [] };
    throw err;
  }
}
