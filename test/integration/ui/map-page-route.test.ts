import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { testConfig, testExecutor } from '../../helpers/neo4j';

describe('the API serves the map page from the package', () => {
  let executor: Executor;
  let server: ApiServer;

  beforeAll(async () => {
    executor = testExecutor();
    server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_API_TOKENS: 's3cret', HG_API_PATH: '/api/graphql' }), silentLogger(), {
      executor,
    });
  });

  afterAll(async () => {
    await server?.stop();
    await executor?.close();
  });

  it('serves the page at /map without a token, pointing it at the configured API path and at its own files', async () => {
    expect(server.mapUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/map$/);
    const res = await fetch(server.mapUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('data-api-path="/api/graphql"');
    expect(html).toContain('src="/map/map.js"');
    expect(html).not.toContain('%API_PATH%');
    // Nothing from a CDN: every script and stylesheet is served from /map/.
    expect([...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).every((u) => u.startsWith('/map/'))).toBe(true);
  });

  it('serves the bundled script and stylesheet, and 404 for anything else under /map/', async () => {
    const base = server.mapUrl;
    const js = await fetch(`${base}/map.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await js.text()).length).toBeGreaterThan(10_000);
    const css = await fetch(`${base}/map.css`);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/secrets.txt`)).status).toBe(404);
    expect((await fetch(base, { method: 'POST' })).status).toBe(405);
  });

  it('still asks for the token on the data: GraphQL without it is 401', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health }' }),
    });
    expect(res.status).toBe(401);
  });
});
