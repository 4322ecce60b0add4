import { loadConfig } from '../../../src/config';
import { Neo4jUnavailableError } from '../../../src/errors';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { TokenSet } from '../../../src/api/auth';
import { type ApiCore, createApiCore } from '../../../src/api/create-api-core';

/**
 * The API core without any server: no HTTP, no WebSocket, no socket of any kind. Its reader is the
 * narrow interface the core reads Neo4j through (read transactions), here one that fails as told
 * and counts what it was asked, so each case shows whether the operation reached the graph.
 */
function coreWith(env: Record<string, string>, fail: () => Error = () => new Error('no graph in this test'), tokens = new TokenSet([])) {
  const config = loadConfig({ env });
  const reads: string[] = [];
  const reader: Pick<Executor, 'read' | 'readTx'> = {
    read: async (query) => {
      reads.push(query);
      throw fail();
    },
    readTx: async () => {
      reads.push('readTx');
      throw fail();
    },
  };
  const core: ApiCore = createApiCore({
    api: config.api,
    buckets: config.time.buckets,
    queryTimeoutMs: config.neo4j.queryTimeoutMs,
    tokens,
    reader,
    log: silentLogger(),
  });
  return { core, reads };
}

const errorsCounted = async (core: ApiCore, code: string) =>
  (await core.metrics.errors.get()).values.find((v) => v.labels.code === code)?.value ?? 0;

describe('the API core, driven without a transport', () => {
  it('executes a query and answers its data', async () => {
    const { core, reads } = coreWith({});
    expect(await core.execute({ query: 'query Live { health }', operationName: 'Live' }, 'http')).toEqual({ data: { health: 'ok' } });
    expect(reads).toEqual([]);
  });

  it('refuses a query deeper than HG_API_MAX_DEPTH before any read, as a validation error counted by its code', async () => {
    const { core, reads } = coreWith({ HG_API_MAX_DEPTH: '3' });
    const deep = '{ pods { nodes { outgoing { destination { id } } } } }';
    const result = await core.execute({ query: deep }, 'http');
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.message).toMatch(/depth/i);
    expect(reads).toEqual([]);
    expect(await errorsCounted(core, 'BAD_USER_INPUT')).toBe(1);
    // The same document one level shallower passes validation and reaches the graph.
    const shallow = coreWith({ HG_API_MAX_DEPTH: '5' });
    await shallow.core.execute({ query: deep }, 'http');
    expect(shallow.reads.length).toBeGreaterThan(0);
  });

  it('hides an internal failure behind INTERNAL_SERVER_ERROR, without its message or stack, and counts it', async () => {
    const { core, reads } = coreWith({}, () => new Error('bolt://db-7.internal:7687 refused the credentials of user admin'));
    const result = await core.execute({ query: '{ stats { pods } }' }, 'ws');
    expect(reads.length).toBeGreaterThan(0);
    expect(result.errors).toEqual([
      {
        message: 'internal server error',
        locations: [{ line: 1, column: 3 }],
        path: ['stats'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    expect(await errorsCounted(core, 'INTERNAL_SERVER_ERROR')).toBe(1);
  });

  it('shows the internal message in development mode (HG_DEV), still as INTERNAL_SERVER_ERROR', async () => {
    const { core } = coreWith({ HG_DEV: 'true' }, () => new Error('bolt://db-7.internal:7687 refused'));
    const result = await core.execute({ query: '{ stats { pods } }' }, 'http');
    expect(result.errors?.[0]).toMatchObject({
      message: 'bolt://db-7.internal:7687 refused',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });

  it('answers SERVICE_UNAVAILABLE when Neo4j is away', async () => {
    const { core } = coreWith({}, () => new Neo4jUnavailableError('connection refused'));
    const result = await core.execute({ query: '{ stats { pods } }' }, 'http');
    expect(result.errors?.[0]).toMatchObject({
      message: 'the graph database is unavailable; try again shortly',
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  });

  it('refuses what a transport does not serve: a subscription over HTTP, any mutation', async () => {
    const { core } = coreWith({});
    const overHttp = core.prepare({ query: 'subscription { podAdded { id } }' }, 'http');
    expect(overHttp.ok).toBe(false);
    if (!overHttp.ok) expect(overHttp.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    const overWs = core.prepare({ query: 'subscription { podAdded { id } }' }, 'ws');
    expect(overWs.ok).toBe(true);
    const mutation = core.prepare({ query: 'mutation { health }' }, 'ws');
    expect(mutation.ok).toBe(false);
  });

  it('tells accepted, missing and refused tokens apart, and accepts everyone without tokens', () => {
    const withTokens = coreWith({}, undefined, new TokenSet(['s3cret'])).core;
    expect(withTokens.authenticate('Bearer s3cret')).toBe('accepted');
    expect(withTokens.authenticate(undefined)).toBe('missing');
    expect(withTokens.authenticate('Bearer guess')).toBe('refused');
    expect(coreWith({}).core.authenticate(undefined)).toBe('accepted');
  });
});
