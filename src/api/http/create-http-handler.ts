import fs from 'node:fs';
import type http from 'node:http';
import { type ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { ApiConfig } from '../../config';
import { errorMessage } from '../../errors';
import type { Logger } from '../../logger';
import { serveBrowserAsset } from '../../neo4j-browser/serve-browser-assets';
import type { ApiContext } from '../api-context';
import { ERROR_CODE } from '../api-errors';
import type { OperationRequest } from '../check-operation';
import type { ApiCore } from '../create-api-core';
import { EXPLORER_ASSETS, EXPLORER_ASSET_PREFIX, explorerAssetPath, explorerHtml } from './explorer';
import { serveMapPage } from './map-page';
import { HttpError, readBody } from './read-body';
import { startApollo } from './start-apollo';

/** The HTTP adapter: a request handler for node:http, and its disposer. */
export interface HttpHandler {
  readonly handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Stops Apollo (after the HTTP server has closed). */
  stop(): Promise<void>;
}

/** The operation of a GraphQL-over-HTTP request: from the JSON body, or from the GET parameters. */
function operationRequest(body: unknown, url: URL): OperationRequest {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body;
  let variables: unknown;
  try {
    variables = JSON.parse(url.searchParams.get('variables') ?? 'null');
  } catch {
    variables = undefined;
  }
  return {
    query: url.searchParams.get('query') ?? undefined,
    operationName: url.searchParams.get('operationName') ?? undefined,
    variables,
  };
}

function corsHeaders(origins: readonly string[], origin: string | undefined): Record<string, string> {
  if (origins.length === 0 || !origin) return {};
  if (origins.includes('*')) return { 'access-control-allow-origin': '*' };
  if (!origins.includes(origin)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * GraphQL over HTTP on the core (Apollo Server, no express) and the routes around it: CORS, the body
 * limit, the bearer token, `/healthz`, `/readyz`, `/metrics`, the offline explorer, the map page
 * and Neo4j Browser's files.
 */
export async function createHttpHandler(core: ApiCore, api: ApiConfig, log: Logger): Promise<HttpHandler> {
  const apollo: ApolloServer<ApiContext> = await startApollo(core, { introspection: api.introspection, development: api.development });

  const handleGraphQL = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, cors: Record<string, string>) => {
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const text = await readBody(req, api.maxBodyBytes);
      if ((headers.get('content-type') ?? '').includes('application/json') && text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          sendJson(res, 400, { errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] }, cors);
          return;
        }
      } else {
        body = text;
      }
    }
    const refused = core.precheck(operationRequest(body, url), 'http');
    if (refused) {
      sendJson(res, 400, { errors: [core.formatError(refused.toJSON(), refused)] }, cors);
      return;
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body };
    const result = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => core.createContext('request') });
    const outHeaders: Record<string, string> = { ...cors };
    for (const [k, v] of result.headers) outHeaders[k] = v;
    res.writeHead(result.status ?? 200, outHeaders);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (serveBrowserAsset(req, res, url, api.path)) return;
    const cors = corsHeaders(api.corsOrigins, req.headers.origin);
    if (req.method === 'OPTIONS' && Object.keys(cors).length > 0) {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization, apollo-require-preflight',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      try {
        await core.ping();
        return sendJson(res, 200, { status: 'ready' });
      } catch (err) {
        // The reason (which may name the Neo4j address) goes to the log, not to unauthenticated probes.
        log.warn({ err: errorMessage(err) }, 'readiness check: Neo4j does not answer');
        return sendJson(res, 503, { status: 'unavailable' });
      }
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': core.metrics.registry.contentType });
      res.end(await core.metrics.registry.metrics());
      return;
    }
    if (api.explorer && url.pathname.startsWith(EXPLORER_ASSET_PREFIX) && req.method === 'GET') {
      const name = url.pathname.slice(EXPLORER_ASSET_PREFIX.length);
      const file = explorerAssetPath(name);
      const asset = EXPLORER_ASSETS[name];
      if (!file || !asset) return sendJson(res, 404, { error: 'not found' });
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
      fs.createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
      return;
    }
    if (url.pathname !== api.path && serveMapPage(req, res, url.pathname, api.path)) return;
    if (url.pathname !== api.path) return sendJson(res, 404, { error: `not found; GraphQL is at ${api.path}` });
    const wantsHtml = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && !url.searchParams.has('query');
    if (wantsHtml && api.explorer) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...cors });
      res.end(explorerHtml());
      return;
    }
    if (core.authenticate(req.headers.authorization) !== 'accepted') {
      return sendJson(
        res,
        401,
        {
          errors: [
            {
              message: 'a valid bearer token is required (Authorization: Bearer <token>)',
              extensions: { code: ERROR_CODE.unauthenticated },
            },
          ],
        },
        { ...cors, 'www-authenticate': 'Bearer' },
      );
    }
    await handleGraphQL(req, res, url, cors);
  };

  return {
    handle: (req, res) => {
      route(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) {
          if (!res.headersSent) sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code } }] });
          else res.end();
          return;
        }
        log.error({ err: errorMessage(err) }, 'HTTP request failed');
        if (!res.headersSent)
          sendJson(res, 500, { errors: [{ message: 'internal server error', extensions: { code: ERROR_CODE.internal } }] });
        else res.end();
      });
    },
    stop: () => apollo.stop(),
  };
}
