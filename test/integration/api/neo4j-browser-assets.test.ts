import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { BROWSER_ASSET_TYPES, BROWSER_GUIDE_PATH, BROWSER_STYLE_PATH } from '../../../src/neo4j-browser/serve-browser-assets';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { shopBatch, writeBatch } from './seed-graph';

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** What Neo4j Browser loads from the API: the guide of the README's Cypher examples and the style. */
describe('Neo4j Browser guide and style served by the API (real HTTP, real Neo4j)', () => {
  let executor: Executor;
  let server: ApiServer;
  let origin: string;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    await writeBatch(executor, shopBatch());
    // Tokens on: the guide and the style hold no graph data and stay open, like the explorer's files.
    server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_API_TOKENS: 's3cret-token' }), silentLogger(), { executor });
    origin = server.url.replace(/\/graphql$/, '');
  });
  afterAll(async () => {
    await server?.stop();
    await executor?.close();
  });

  it('serves the guide as HTML and the style as text, readable from the Browser page on another origin', async () => {
    for (const [pathname, type] of [
      [BROWSER_GUIDE_PATH, BROWSER_ASSET_TYPES.guide],
      [BROWSER_STYLE_PATH, BROWSER_ASSET_TYPES.style],
    ]) {
      // Browser sends pragma and cache-control with the guide request, so it asks first.
      const preflight = await fetch(`${origin}${pathname}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://127.0.0.1:7474',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'pragma,cache-control',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/pragma.*cache-control|cache-control.*pragma/);
      const res = await fetch(`${origin}${pathname}`, {
        headers: { origin: 'http://127.0.0.1:7474', pragma: 'no-cache', 'cache-control': 'no-cache' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
    const style = await (await fetch(`${origin}${BROWSER_STYLE_PATH}`)).text();
    expect(style).toContain('node.Pod {');
    expect(
      (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ health }"}' })).status,
    ).toBe(401);
  });

  it('names the style and the API by the address the guide was asked on', async () => {
    const html = await (await fetch(`${origin}${BROWSER_GUIDE_PATH}`)).text();
    expect(html).toContain(`:style ${origin}${BROWSER_STYLE_PATH}`);
    expect(html).toContain(server.url);
  });

  it('has Cypher examples that all run against a seeded graph, with the parameters the guide sets', async () => {
    const html = await (await fetch(`${origin}${BROWSER_GUIDE_PATH}`)).text();
    const blocks = [...html.matchAll(/<pre class="pre-scrollable code runnable">([\s\S]*?)<\/pre>/g)].map((m) => unescapeHtml(m[1]!));
    const params: Record<string, unknown> = {};
    let queries = 0;
    let rows = 0;
    for (const block of blocks) {
      if (block.startsWith(':style ')) continue;
      const param = /^:param (\w+) => '(.*)'$/.exec(block);
      if (param) {
        params[param[1]!] = param[2];
        continue;
      }
      expect(block.startsWith(':')).toBe(false); // no other Browser command is expected
      const result = await executor.read(block, params);
      queries++;
      rows += result.length;
    }
    expect(queries).toBeGreaterThanOrEqual(5);
    expect(rows).toBeGreaterThan(0);
  });
});
