import { getOperationAST, parse } from 'graphql';
import { buildApiSchema } from '../../../src/api/build-api-schema';
import { checkOperation, precheckOperation } from '../../../src/api/check-operation';
import { estimateOperationCost, pathsWork } from '../../../src/api/estimate-operation-cost';
import { ARG_DEFAULTS } from '../../../src/api/validate-args';

const schema = buildApiSchema();
const caps = { maxHops: 10, maxPageSize: 1000 };
const limits = { ...caps, maxCost: 50_000, maxRootFields: 20 };
/** The model's constants, as the README states them. */
const PAGE = 100;
const SCAN = 1000;

function cost(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  return estimateOperationCost(schema, document, getOperationAST(document)!, variables, caps);
}

function check(query: string, transport: 'http' | 'ws' = 'http', variables: Record<string, unknown> = {}) {
  const document = parse(query);
  return checkOperation(schema, document, getOperationAST(document)!, variables, transport, limits);
}

const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

describe('estimateOperationCost', () => {
  it('costs a dependency search by its depth times the page size', () => {
    const at = (depth: number) => cost(`{ dependencies(id: "x", depth: ${depth}) { truncated } }`).cost;
    expect(at(10) - at(1)).toBe(9 * caps.maxPageSize);
    expect(cost('{ dependencies(id: "x") { truncated } }').cost).toBe(at(ARG_DEFAULTS.depth));
  });

  it('costs a path search by its hops and limit, each hop multiplying the search term by 4', () => {
    expect(pathsWork(3, 10)).toBe(1 * 10 + 4 + 2 * 10 + 16 + 3 * 10 + 64);
    expect(cost('{ paths(from: "a", to: "b", maxHops: 10, limit: 1000) { length } }').cost).toBe(1 + pathsWork(10, 1000) + 1000 * 1);
  });

  it('costs a service map as a full aggregation plus what is selected for each of its top-N edges and nodes', () => {
    expect(cost('{ serviceMap(filter: {topN: 50}) { edges { source target } nodes { id } } }').cost).toBe(
      1 + SCAN + 50 + (1 + 50 * 2) + (1 + 50 * 1),
    );
  });

  it('multiplies what is selected under a list by the items it may hold', () => {
    // pods: its page query and 10 items; under each pod, outgoing: 5 calls read and 5 items of one field.
    expect(cost('{ pods(first: 10) { nodes { outgoing(first: 5) { key } } } }').cost).toBe(1 + (PAGE + 10) + (1 + 10 * (1 + 5 + 5 * 1)));
  });

  it("reads arguments from variables and from the resolvers' defaults", () => {
    const q = 'query($d: Int) { dependencies(id: "x", depth: $d) { truncated } }';
    expect(cost(q, { d: 10 }).cost - cost(q, { d: 1 }).cost).toBe(9 * caps.maxPageSize);
    expect(cost(q, {}).cost).toBe(cost(q, { d: ARG_DEFAULTS.depth }).cost);
  });

  it("clamps arguments to the caps, leaving the over-cap value to the resolver's own error", () => {
    expect(cost('{ calls(first: 5000) { nodes { key } } }').cost).toBe(cost('{ calls(first: 1000) { nodes { key } } }').cost);
  });

  it('counts fragments and aliases, not introspection', () => {
    const viaFragment = cost('query { ...F } fragment F on Query { a: stats { pods } b: stats { pods } }');
    expect(viaFragment.rootFields.map((f) => f.key)).toEqual(['a', 'b']);
    expect(viaFragment.cost).toBe(2 * cost('{ stats { pods } }').cost);
    expect(cost('{ __typename stats { pods } }').rootFields).toHaveLength(1);
  });
});

describe('checkOperation: the reported hostile requests', () => {
  it('refuses 100 aliases of dependencies(depth: 10) for their number of root fields', () => {
    const refused = check(aliases(100, 'dependencies(id: "shop/api-0", depth: 10) { nodes { distance } }'));
    expect(refused?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refused?.message).toBe(
      'the operation asks for 100 root fields (aliases count); at most 20 are allowed (HG_API_MAX_ROOT_FIELDS)',
    );
  });

  it('refuses dependencies(depth: 10) aliased within the root-field cap by cost', () => {
    const refused = check(aliases(20, 'dependencies(id: "shop/api-0", depth: 10) { nodes { distance } }'));
    expect(refused?.message).toMatch(
      /^the operation's estimated cost \d+ is above the limit 50000 \(HG_API_MAX_COST\); costliest root fields: a0: dependencies \d+/,
    );
    expect(refused?.extensions.cost).toBeGreaterThan(50_000);
  });

  it('refuses paths(maxHops: 10, limit: 1000), even once, by cost', () => {
    expect(check('{ paths(from: "a", to: "b", maxHops: 10, limit: 1000) { length hops { key } } }')?.message).toMatch(
      /HG_API_MAX_COST.*paths/,
    );
    expect(check(aliases(50, 'paths(from: "a", to: "b", maxHops: 10, limit: 1000) { length }'))?.message).toMatch(/HG_API_MAX_ROOT_FIELDS/);
  });

  it('refuses 1,000 aliases of serviceMap, and 20 by cost', () => {
    expect(check(aliases(1000, 'serviceMap { nodes { id } edges { source target flows } }'))?.message).toMatch(/1000 root fields/);
    expect(check(aliases(20, 'serviceMap { nodes { id } edges { source target flows } }'))?.message).toMatch(/HG_API_MAX_COST/);
  });

  it('lets ordinary requests through', () => {
    expect(check('{ stats { pods calls } serviceMap { nodes { id } edges { source target flows } } }')).toBeUndefined();
    expect(check('{ dependencies(id: "x", depth: 3) { nodes { endpoint { id } distance } calls { key } truncated } }')).toBeUndefined();
    expect(check('{ paths(from: "a", to: "b") { length hops { key source { id } destination { id } } } }')).toBeUndefined();
  });
});

describe('checkOperation: what each transport serves', () => {
  it('answers a mutation that the API is read-only', () => {
    const refused = check('mutation { x }');
    expect(refused?.extensions.code).toBe('BAD_REQUEST');
    expect(refused?.message).toMatch(/read-only/);
  });

  it('sends subscriptions over HTTP to the WebSocket and lets them through there', () => {
    expect(check('subscription { callAdded { key } }')?.message).toMatch(/WebSocket \(graphql-transport-ws\)/);
    expect(check('subscription { callAdded { key } }', 'ws')).toBeUndefined();
  });
});

describe('precheckOperation: before parsing is validated', () => {
  it('refuses from the request text what checkOperation refuses', () => {
    const refused = precheckOperation(schema, { query: aliases(1000, 'serviceMap { nodes { id } }') }, 'http', limits);
    expect(refused?.message).toMatch(/1000 root fields/);
    const viaVariables = precheckOperation(
      schema,
      { query: `query($d: Int) ${aliases(10, 'dependencies(id: "x", depth: $d) { truncated }')}`, variables: { d: 10 } },
      'http',
      limits,
    );
    expect(viaVariables?.message).toMatch(/HG_API_MAX_COST/);
  });

  it('leaves to the full pipeline what it cannot tell: no query, a syntax error, several operations without a name', () => {
    expect(precheckOperation(schema, {}, 'http', limits)).toBeUndefined();
    expect(precheckOperation(schema, { query: '{ stats { ' }, 'http', limits)).toBeUndefined();
    expect(precheckOperation(schema, { query: 'query A { health } query B { health }' }, 'http', limits)).toBeUndefined();
  });

  it('costs fragments spread inside one another (a fragment bomb) above any limit, and a fragment cycle too, without hanging', () => {
    const levels = 30;
    // Each fragment spreads the next twice: 2^30 fields from a short document.
    const defs = Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Query { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : 'stats { pods }'} }`,
    );
    const bomb = `query { ...F0 } ${defs.join(' ')}`;
    expect(precheckOperation(schema, { query: bomb }, 'http', limits)?.message).toMatch(/too many root fields/);
    const nested = `query { pods { nodes { ...F0 } } } ${defs.map((d) => d.replace('on Query', 'on Pod').replace('stats { pods }', 'id')).join(' ')}`;
    expect(precheckOperation(schema, { query: nested }, 'http', limits)?.message).toMatch(/too many fields.*HG_API_MAX_COST/);
    const cycle = 'query { pods { nodes { ...P } } } fragment P on Pod { outgoing { destination { ...on Pod { ...P } } } }';
    expect(precheckOperation(schema, { query: cycle }, 'http', limits)?.message).toMatch(/HG_API_MAX_COST/);
  });
});
