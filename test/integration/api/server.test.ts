import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import neo4j from 'neo4j-driver';
import pino from 'pino';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { resetGraph, testConfig, testEnv, testExecutor } from '../../helpers/neo4j';
import { gql } from './gql-client';
import { ID, shopBatch, writeBatch } from './seed-graph';
import { collect, waitForMetric, wsClient } from './ws-client';
import { startCli } from '../../helpers/cli';
import { waitUntil } from '../../helpers/wait-until';

const base = (server: ApiServer) => server.url.replace(/\/graphql$/, '');

/** Replaces a file whole (write beside it, then rename), so that a watcher never reads it half written. */
function replaceFile(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

describe('GraphQL API server (real HTTP and WebSocket)', () => {
  let executor: Executor;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch());
  });

  afterAll(async () => {
    await executor?.close();
  });

  describe('with defaults', () => {
    let server: ApiServer;
    const logged: { level: number; msg: string }[] = [];
    beforeAll(async () => {
      const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
      server = await startApiServer(
        testConfig({ HG_API_PORT: '0', HG_API_MAX_HOPS: '4', HG_API_MAX_PAGE_SIZE: '20', HG_API_MAX_DEPTH: '6', HG_API_MAX_COST: '2000' }),
        log,
        { executor },
      );
    });
    afterAll(async () => server?.stop());

    it('listens on loopback and answers /healthz, /readyz and /metrics', async () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      expect(server.wsUrl).toBe(server.url.replace('http', 'ws'));
      expect(await (await fetch(`${base(server)}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base(server)}/readyz`);
      expect(ready.status).toBe(200);
      await gql(server.url, '{ health }');
      const metrics = await (await fetch(`${base(server)}/metrics`)).text();
      expect(metrics).toMatch(/hubble_graph_api_requests_total\{transport="http",operation="query"\} \d+/);
      expect(metrics).toContain('hubble_graph_api_resolver_duration_seconds_bucket');
      expect(metrics).toContain('hubble_graph_api_neo4j_duration_seconds_bucket');
      expect(metrics).toContain('hubble_graph_api_subscriptions_open');
      expect((await fetch(`${base(server)}/nope`)).status).toBe(404);
    });

    it('serves the offline explorer page and its local files (no CDN)', async () => {
      const page = await fetch(server.url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('GraphiQL');
      expect(html).not.toMatch(/https?:\/\/(?!127)/);
      for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) {
        const res = await fetch(new URL(src, server.url));
        expect(res.status).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      }
      expect((await fetch(`${base(server)}/_explorer/../../package.json`)).status).toBe(404);
    });

    it('allows introspection by default', async () => {
      const res = await gql(server.url, '{ __schema { queryType { name } } }');
      expect(res.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    });

    it.each([
      ['unknown pod id', `{ pod(id: "shop/nope") { id } }`, 'id'],
      ['an endpoint that is not a pod', `{ pod(id: "${ID.world}") { id } }`, 'id'],
      ['unknown path start', `{ shortestPath(from: "shop/nope", to: "${ID.db}") { length } }`, 'from'],
      ['unknown path end', `{ paths(from: "${ID.webA}", to: "nope") { length } }`, 'to'],
      ['unknown dependency root', `{ dependencies(id: "nope") { truncated } }`, 'id'],
      ['a malformed label selector', `{ pods(filter: {labelSelector: "app in (web"}) { totalCount } }`, 'filter.labelSelector'],
      ['a bad selector key', `{ pods(filter: {labelSelector: "a b=c"}) { totalCount } }`, 'filter.labelSelector'],
      ['maxHops above the cap', `{ shortestPath(from: "${ID.webA}", to: "${ID.db}", maxHops: 5) { length } }`, 'maxHops'],
      ['depth above the cap', `{ dependencies(id: "${ID.webA}", depth: 9) { truncated } }`, 'depth'],
      ['first too large', `{ pods(first: 21) { totalCount } }`, 'first'],
      ['negative first', `{ calls(first: -1) { totalCount } }`, 'first'],
      ['topN too large', `{ serviceMap(filter: {topN: 1000}) { truncated } }`, 'filter.topN'],
      ['a forged cursor', `{ pods(after: "bm9wZQ") { totalCount } }`, 'after'],
      ['a bad date', `{ calls(filter: {activeSince: "yesterday"}) { totalCount } }`, 'filter.activeSince'],
      ['a bad namespace', `{ hubbleServiceMap(namespace: "Not A Namespace") { links { id } } }`, 'namespace'],
      ['a bad verdict', `{ calls(filter: {verdicts: ["FORWARDED'"]}) { totalCount } }`, 'filter.verdicts[0]'],
      ['a port out of range', `{ calls(filter: {port: 70000}) { totalCount } }`, 'filter.port'],
    ])('answers %s with BAD_USER_INPUT naming the argument', async (_what, query, argument) => {
      const res = await gql(server.url, query);
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message.startsWith(`${argument}: `)).toBe(true);
      expect(res.errors![0]!.extensions!.stacktrace).toBeUndefined();
    });

    it('refuses queries deeper, wider or costlier than the limits', async () => {
      const deep = await gql(
        server.url,
        `{ pod(id: "${ID.api}") { outgoing { destination { outgoing { destination { outgoing { destination { id } } } } } } } }`,
      );
      expect(deep.status).toBe(400);
      expect(deep.errors![0]!.message).toMatch(/depth/i);
      const fields = Array.from({ length: 400 }, (_, i) => `a${i}: stats { endpoints pods calls namespaces }`).join(' ');
      const wide = await gql(server.url, `{ ${fields} }`);
      expect(wide.status).toBe(400);
      expect(wide.errors![0]!.message).toMatch(/400 root fields/);
      // HG_API_MAX_COST is 2000 here: each service map costs a full aggregation (1000) and its edges.
      const costly = await gql(server.url, '{ a: serviceMap { edges { source target } } b: serviceMap { edges { source target } } }');
      expect(costly.status).toBe(400);
      expect(costly.errors![0]!.message).toMatch(/cost \d+ is above the limit 2000 \(HG_API_MAX_COST\)/);
      expect(costly.errors![0]!.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', maxCost: 2000 });
    });

    it('answers a mutation or a subscription over HTTP with 400 and what to do instead, logging nothing at error level', async () => {
      const mutation = await gql(server.url, 'mutation { anything }');
      expect(mutation.status).toBe(400);
      expect(mutation.errors).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/^this API is read-only/), extensions: { code: 'BAD_REQUEST' } }),
      ]);
      const subscription = await gql(server.url, 'subscription { callAdded { key } }');
      expect(subscription.status).toBe(400);
      expect(subscription.errors![0]!.message).toMatch(
        /^subscriptions are served over WebSocket \(graphql-transport-ws\) on this same path/,
      );
      expect(subscription.errors![0]!.extensions).toEqual({ code: 'BAD_REQUEST' });
      expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    });

    it('answers a 10 MB body with 413, not a reset connection, and keeps serving', async () => {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ health }', padding: 'x'.repeat(10_000_000) }),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({
        errors: [{ message: 'request body larger than 1000000 bytes (HG_API_MAX_BODY_BYTES)', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
      });
      expect((await gql(server.url, '{ health }')).data).toEqual({ health: 'ok' });
    });

    it('answers CORS preflights only when origins are configured', async () => {
      const res = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { origin: 'http://ui.example', 'access-control-request-method': 'POST' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('with tokens, CORS and introspection off', () => {
    let server: ApiServer;
    let dir: string;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-api-'));
      fs.writeFileSync(path.join(dir, 'tokens'), '# API tokens\nfile-token\n');
      server = await startApiServer(
        testConfig({
          HG_API_PORT: '0',
          HG_API_TOKENS: 'env-token',
          HG_API_TOKENS_FILE: path.join(dir, 'tokens'),
          HG_API_CORS_ORIGINS: 'http://ui.example',
          HG_API_INTROSPECTION: 'false',
        }),
        silentLogger(),
        { executor },
      );
    });
    afterAll(async () => {
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('returns 401 and no data without a valid bearer token', async () => {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic env-token' }] as Record<string, string>[]) {
        const res = await gql(server.url, '{ stats { pods } }', {}, headers);
        expect(res.status).toBe(401);
        expect(res.data).toBeUndefined();
        expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
      }
    });

    it('answers with a token from the environment or from the file', async () => {
      for (const token of ['env-token', 'file-token']) {
        const res = await gql(server.url, '{ stats { pods } }', {}, { authorization: `Bearer ${token}` });
        expect(res.status).toBe(200);
        expect(res.data).toEqual({ stats: { pods: 6 } });
      }
    });

    it('closes WebSocket connections without a token (4401) or with a wrong one (4403), and serves a valid one', async () => {
      for (const [params, code] of [
        [undefined, 4401],
        [{ authorization: 'Bearer wrong' }, 4403],
      ] as [Record<string, string> | undefined, number][]) {
        const c = wsClient(server.wsUrl, params);
        const s = collect(c, 'subscription { callAdded { key } }');
        await s.until(() => s.done, 5000);
        expect((s.failure as { code?: number }).code).toBe(code);
        expect(s.results).toEqual([]);
        await c.dispose();
      }
      const ok = wsClient(server.wsUrl, { authorization: 'Bearer file-token' });
      const q = collect(ok, '{ stats { pods } }');
      await q.until((r) => r.length > 0, 5000);
      expect(q.results).toEqual([{ data: { stats: { pods: 6 } } }]);
      await ok.dispose();
    });

    it('reads the tokens file again when it changes: a removed token is refused and its subscriptions are closed', async () => {
      replaceFile(path.join(dir, 'tokens'), '# API tokens\nfile-token\nsecond-token\n');
      const second = { authorization: 'Bearer second-token' };
      await waitUntil(
        'the reloaded tokens file to admit the second token',
        async () => (await gql(server.url, '{ stats { pods } }', {}, second)).status === 200,
        10_000,
        50,
      );
      const revoked = wsClient(server.wsUrl, second);
      const kept = wsClient(server.wsUrl, { authorization: 'Bearer file-token' });
      const onRevoked = collect(revoked, 'subscription { callAdded { key } }');
      const onKept = collect(kept, 'subscription { callAdded { key } }');
      await waitForMetric(server.url, 'hubble_graph_api_subscriptions_open', 'topic="callAdded"', 2);

      replaceFile(path.join(dir, 'tokens'), '# second-token removed\nfile-token\n');
      await onRevoked.until(() => onRevoked.done, 10_000);
      expect((onRevoked.failure as { code?: number; reason?: string }).code).toBe(4403);
      expect((onRevoked.failure as { reason?: string }).reason).toBe('Forbidden: token revoked');
      expect((await gql(server.url, '{ stats { pods } }', {}, second)).status).toBe(401);
      expect(onKept.done).toBe(false);
      expect((await gql(server.url, '{ stats { pods } }', {}, { authorization: 'Bearer file-token' })).status).toBe(200);
      expect((await gql(server.url, '{ stats { pods } }', {}, { authorization: 'Bearer env-token' })).status).toBe(200);
      onKept.unsubscribe();
      await revoked.dispose();
      await kept.dispose();
    });

    it('refuses introspection when it is switched off', async () => {
      const res = await gql(server.url, '{ __schema { queryType { name } } }', {}, { authorization: 'Bearer env-token' });
      expect(res.data).toBeUndefined();
      expect(res.errors![0]!.message).toMatch(/introspection/i);
    });

    it('sends CORS headers to allowed origins only', async () => {
      const allowed = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { origin: 'http://ui.example', 'access-control-request-method': 'POST' },
      });
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://ui.example');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
      const other = await fetch(server.url, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
        body: '{"query":"{health}"}',
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('when Neo4j is unavailable', () => {
    let server: ApiServer;
    let deadExecutor: Executor;
    beforeAll(async () => {
      // Nothing listens on port 1; the driver gives up quickly instead of retrying for 15 s.
      const driver = neo4j.driver('bolt://127.0.0.1:1', neo4j.auth.basic('neo4j', 'x'), {
        maxTransactionRetryTime: 200,
        connectionTimeout: 500,
        logging: { level: 'error', logger: () => undefined },
      });
      deadExecutor = new Executor(driver, { database: 'neo4j', queryTimeoutMs: 1000 });
      server = await startApiServer(testConfig({ HG_API_PORT: '0' }), silentLogger(), { executor: deadExecutor });
    });
    afterAll(async () => {
      await server?.stop();
      await deadExecutor?.close();
    });

    it('answers SERVICE_UNAVAILABLE and keeps running', async () => {
      const res = await gql(server.url, '{ stats { pods } }');
      expect(res.errors![0]!.extensions!.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.errors![0]!.extensions!.stacktrace).toBeUndefined();
      expect(JSON.stringify(res.errors)).not.toContain('127.0.0.1:1');
      expect((await fetch(`${base(server)}/readyz`)).status).toBe(503);
      expect((await fetch(`${base(server)}/healthz`)).status).toBe(200);
      expect((await gql(server.url, '{ health }')).data).toEqual({ health: 'ok' });
    });
  });

  describe('in development mode', () => {
    let server: ApiServer;
    beforeAll(async () => {
      server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_DEV: 'true' }), silentLogger(), { executor });
    });
    afterAll(async () => server?.stop());

    it('includes stack traces in errors', async () => {
      const res = await gql(server.url, '{ pod(id: "shop/nope") { id } }');
      expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(Array.isArray(res.errors![0]!.extensions!.stacktrace)).toBe(true);
    });
  });
});

describe('hubble-graph serve (its own process)', () => {
  it('serves until SIGTERM, then stops in order and exits 0', async () => {
    const serve = startCli(['serve'], testEnv({ HG_API_PORT: '0', LOG_LEVEL: 'info' }));
    try {
      const deadline = Date.now() + 60_000;
      let url: string | undefined;
      while (!url && Date.now() < deadline) {
        url = /GraphQL API: (http:\/\/\S+)/.exec(serve.output())?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url).toBeDefined();
      expect((await gql(url!, '{ health }')).data).toEqual({ health: 'ok' });
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await serve.exited).toBe(0);
    expect(serve.output()).toContain('GraphQL API stopped');
  });
});
