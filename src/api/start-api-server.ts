import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type ValidationContext,
  type ValidationRule,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AppConfig } from '../config';
import { errorMessage } from '../errors';
import type { Executor } from '../graph/executor';
import { type Graph, openGraph } from '../graph/open-graph';
import type { Logger } from '../logger';
import { serveBrowserAsset } from '../neo4j-browser/serve-browser-assets';
import { type ApiContext, createApiContext } from './api-context';
import { GraphVersionCache } from './graph-version-cache';
import { ERROR_CODE, formatClientError } from './api-errors';
import { type ApiMetrics, createApiMetrics } from './api-metrics';
import { loadTokens, watchTokensFile } from './auth';
import { buildApiSchema } from './build-api-schema';
import { ChangeFeed } from './change-feed';
import { type OperationLimits, type OperationRequest, checkOperation, precheckOperation } from './check-operation';
import { DeadlineSemaphore } from './deadline-semaphore';
import { estimateOperationCost } from './estimate-operation-cost';
import { EXPLORER_ASSETS, EXPLORER_ASSET_PREFIX, explorerAssetPath, explorerHtml } from './explorer';
import { MAP_PAGE_PATH, serveMapPage } from './map-page';
import { type GraphReader, pingGraph } from './read-graph';
import { createRequestReader } from './request-reader';

/** A running API server. */
export interface ApiServer {
  /** `http://host:port/path` of GraphQL over HTTP. */
  readonly url: string;
  /** `ws://host:port/path` of GraphQL over WebSocket (graphql-transport-ws). */
  readonly wsUrl: string;
  readonly port: number;
  /** `http://host:port/map`: the map page. */
  readonly mapUrl: string;
  /** Closes subscriptions, sockets, the HTTP server, and the graph connection when it opened it. */
  stop(): Promise<void>;
}

/** A request body past HG_API_MAX_BODY_BYTES is still read (and thrown away) up to this many times that size, so that the client gets its 413; beyond, the connection is closed. */
const BODY_DRAIN_FACTOR = 64;

/** An HTTP answer other than GraphQL's: status, code and message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Times every read transaction for /metrics. */
function timedReader(executor: Pick<Executor, 'read' | 'readTx'>, metrics: ApiMetrics): GraphReader {
  return {
    async read(query, params, options) {
      const end = metrics.neo4jSeconds.startTimer({ kind: 'read' });
      try {
        return await executor.read(query, params, options);
      } finally {
        end();
      }
    },
    async readTx(work, options) {
      const end = metrics.neo4jSeconds.startTimer({ kind: 'readTx' });
      try {
        return await executor.readTx(work, options);
      } finally {
        end();
      }
    },
  } as GraphReader;
}

/**
 * Times the top-level resolvers of queries and mutations for /metrics, by wrapping them in the
 * schema. (A plugin's willResolveField would do it too, but its presence makes Apollo wrap every
 * field of every answer: a third of the time of a 10k-edge service map.)
 */
function timeRootResolvers(schema: GraphQLSchema, metrics: ApiMetrics): void {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const resolve = field.resolve;
      if (resolve === undefined) continue;
      field.resolve = async (source, args, context, info) => {
        const end = metrics.resolverSeconds.startTimer({ field: info.fieldName });
        try {
          return await resolve(source, args, context, info);
        } finally {
          end();
        }
      };
    }
  }
}

function metricsPlugin(metrics: ApiMetrics): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          metrics.requests.inc({ transport: 'http', operation: operation?.operation ?? 'unknown' });
        },
        async didEncounterErrors({ errors }) {
          for (const e of errors) metrics.errors.inc({ code: String(e.extensions?.code ?? ERROR_CODE.internal) });
        },
      };
    },
  };
}

/**
 * Refuses, before anything runs, what HTTP does not serve and what is over the limits
 * (checkOperation), with status 400. The HTTP handler's precheckOperation refuses most of it
 * earlier, before validation; this check also sees operations it could not (persisted queries).
 */
function operationLimitsPlugin(schema: ReturnType<typeof buildApiSchema>, limits: OperationLimits): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, contextValue }) {
          if (!operation) return;
          const refused = checkOperation(schema, document, operation, request.variables, 'http', limits);
          if (refused) throw new GraphQLError(refused.message, { nodes: refused.nodes, extensions: { ...refused.extensions, http: { status: 400 } } });
          contextValue.setOperationCost(estimateOperationCost(schema, document, operation, request.variables, limits).cost);
        },
      };
    },
  };
}

/** The operation of a GraphQL-over-HTTP request: from the JSON body, or from the GET parameters. */
function operationRequest(body: unknown, url: URL): OperationRequest {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as OperationRequest;
  let variables: unknown;
  try {
    variables = JSON.parse(url.searchParams.get('variables') ?? 'null');
  } catch {
    variables = undefined;
  }
  return { query: url.searchParams.get('query') ?? undefined, operationName: url.searchParams.get('operationName') ?? undefined, variables };
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
 * The request body, at most `maxBytes`. A larger body is read to its end and thrown away, so that
 * the client, still sending, receives the 413 instead of a reset connection; only a body far beyond
 * the limit (BODY_DRAIN_FACTOR) has its connection closed.
 */
function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    let tooLarge = false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (tooLarge) {
        if (size > maxBytes * BODY_DRAIN_FACTOR) req.destroy();
        return;
      }
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) reject(new HttpError(413, ERROR_CODE.payloadTooLarge, `request body larger than ${maxBytes} bytes (HG_API_MAX_BODY_BYTES)`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/**
 * Starts the GraphQL API: Apollo Server over a plain Node HTTP server (no express), graphql-ws on
 * the same server and path, `/healthz`, `/readyz`, `/metrics`, and the offline explorer. Without a
 * `graph`, it opens Neo4j from `config` and applies migrations; a given graph is left open by stop().
 */
export async function startApiServer(config: AppConfig, log: Logger, graph?: Pick<Graph, 'executor'>): Promise<ApiServer> {
  const api = config.api;
  let tokens = loadTokens(api);
  const schema = buildApiSchema();
  let ownGraph: Graph | undefined;
  const { executor } = graph ?? (ownGraph = await openGraph(config, log, { migrate: true }));
  const metrics = createApiMetrics(() => feed.counts());
  timeRootResolvers(schema, metrics);
  const reader = timedReader(executor, metrics);
  const feed = new ChangeFeed(
    reader,
    {
      pollMs: api.changePollMs,
      coalesceMs: api.updateCoalesceMs,
      onPoll: ({ seq, events, skipped, error }) => {
        metrics.changeFeedSeq.set(seq);
        if (error) metrics.changeFeedErrors.inc();
        if (skipped > 0) metrics.changeFeedSkipped.inc(skipped);
        for (const [topic, n] of Object.entries(events)) if (n > 0) metrics.changeFeedEvents.inc({ topic }, n);
      },
    },
    log,
  );
  const limits = { maxHops: api.maxHops, maxPageSize: api.maxPageSize, buckets: config.time.buckets };
  const operationLimits: OperationLimits = { maxHops: api.maxHops, maxPageSize: api.maxPageSize, maxCost: api.maxCost, maxRootFields: api.maxRootFields };
  const mapCache = new GraphVersionCache();
  const heavy = { sessions: new DeadlineSemaphore(api.maxHeavySessions), fromCost: api.heavyCost };
  // Every request (HTTP) or subscription (WebSocket) reads through its own bounded reader.
  const newContext = (scope: 'request' | 'transaction') => {
    const requestReader = createRequestReader(reader, {
      maxSessions: api.maxSessionsPerRequest,
      timeoutMs: api.readTimeoutMs,
      scope,
      queryTimeoutMs: config.neo4j.queryTimeoutMs,
      heavy,
    });
    return createApiContext(requestReader, limits, feed, mapCache, (cost) => requestReader.setCost(cost));
  };

  // Report limit violations as validation errors (graphql-armor throws by default, which Apollo
  // turns into a 500).
  const armor = {
    propagateOnRejection: false,
    onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, '')))],
  };
  // Root fields and cost depend on variables, so they are checked once the operation is known
  // (operationLimitsPlugin, onSubscribe), not by validation rules, whose results Apollo caches per document.
  const extraRules: ValidationRule[] = [
    maxDepthRule({ n: api.maxDepth, ...armor }) as unknown as ValidationRule,
    ...(api.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];

  const apollo = new ApolloServer<ApiContext>({
    schema,
    introspection: api.introspection,
    // Apollo would stop itself on SIGTERM and then re-raise the signal, killing the process before
    // our own ordered shutdown ran; the caller (serve, run) owns the signals.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: api.development,
    validationRules: extraRules,
    // Apollo's default landing page loads from a CDN; the explorer here is served from local files.
    // No cache hints are used; Apollo's default cache-control plugin would visit every field of an answer.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), metricsPlugin(metrics), operationLimitsPlugin(schema, operationLimits)],
    formatError: (formatted, error) => {
      const out = formatClientError(formatted, error, api.development);
      if (out.extensions?.code === ERROR_CODE.internal) log.error({ err: errorMessage(error) }, 'GraphQL resolver failed');
      return out;
    },
  });
  await apollo.start();

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
    const refused = precheckOperation(schema, operationRequest(body, url), 'http', operationLimits);
    if (refused) {
      metrics.requests.inc({ transport: 'http', operation: 'refused' });
      metrics.errors.inc({ code: String(refused.extensions.code) });
      sendJson(res, 400, { errors: [refused.toJSON()] }, cors);
      return;
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body };
    const result = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => newContext('request') });
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

  const server = http.createServer((req, res) => {
    void (async () => {
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
          await pingGraph(reader);
          return sendJson(res, 200, { status: 'ready' });
        } catch (err) {
          // The reason (which may name the Neo4j address) goes to the log, not to unauthenticated probes.
          log.warn({ err: errorMessage(err) }, 'readiness check: Neo4j does not answer');
          return sendJson(res, 503, { status: 'unavailable' });
        }
      }
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
        return;
      }
      if (api.explorer && url.pathname.startsWith(EXPLORER_ASSET_PREFIX) && req.method === 'GET') {
        const name = url.pathname.slice(EXPLORER_ASSET_PREFIX.length);
        const file = explorerAssetPath(name);
        if (!file) return sendJson(res, 404, { error: 'not found' });
        res.writeHead(200, { 'content-type': EXPLORER_ASSETS[name].type, 'cache-control': 'public, max-age=86400' });
        fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
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
      if (!tokens.accepts(req.headers.authorization)) {
        return sendJson(
          res,
          401,
          { errors: [{ message: 'a valid bearer token is required (Authorization: Bearer <token>)', extensions: { code: ERROR_CODE.unauthenticated } }] },
          { ...cors, 'www-authenticate': 'Bearer' },
        );
      }
      await handleGraphQL(req, res, url, cors);
    })().catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code } }] });
        else res.end();
        return;
      }
      log.error({ err: errorMessage(err) }, 'HTTP request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'internal server error', extensions: { code: ERROR_CODE.internal } }] });
      else res.end();
    });
  });

  const wss = new WebSocketServer({ server, path: api.path });
  // The authorization each open socket was let in with, so that a tokens-file change can close the revoked ones.
  const socketAuth = new Map<WebSocket, unknown>();
  const stopWatchingTokens = watchTokensFile(api, log, (next) => {
    tokens = next;
    for (const [socket, auth] of socketAuth) {
      if (!tokens.accepts(auth)) socket.close(CloseCode.Forbidden, 'Forbidden: token revoked');
    }
  });
  const wsServer = useServer<Record<string, unknown>>(
    {
      schema,
      onConnect: (ctx) => {
        if (!tokens.enabled) return true;
        const auth = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (auth === undefined) {
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: connection_init payload needs {authorization: "Bearer <token>"}');
          return false;
        }
        if (!tokens.accepts(auth)) return false;
        const socket = ctx.extra.socket;
        socketAuth.set(socket, auth);
        socket.once('close', () => socketAuth.delete(socket));
        return true;
      },
      // Parse, validate and check the operation here, where its variables are known, and run it with a bounded reader.
      onSubscribe: (_ctx, _id, payload) => {
        const early = precheckOperation(schema, payload, 'ws', operationLimits);
        if (early) {
          metrics.requests.inc({ transport: 'ws', operation: 'refused' });
          return [early];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError(errorMessage(err))];
        }
        const operation = getOperationAST(document, payload.operationName);
        metrics.requests.inc({ transport: 'ws', operation: operation?.operation ?? 'unknown' });
        const invalid = validate(schema, document, [...specifiedRules, ...extraRules]);
        if (invalid.length > 0) return invalid;
        if (!operation) return [new GraphQLError('no operation to run: name one with operationName when the document holds several')];
        const refused = checkOperation(schema, document, operation, payload.variables ?? undefined, 'ws', operationLimits);
        if (refused) return [refused];
        // A query has its budget in all; a subscription lives long, and each of its reads has the budget.
        const contextValue = newContext(operation.operation === 'subscription' ? 'transaction' : 'request');
        contextValue.setOperationCost(estimateOperationCost(schema, document, operation, payload.variables ?? undefined, operationLimits).cost);
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return;
        return {
          ...result,
          errors: result.errors.map((e) => {
            const out = formatClientError(e.toJSON(), e, api.development);
            metrics.errors.inc({ code: String(out.extensions?.code ?? ERROR_CODE.internal) });
            return out;
          }),
        };
      },
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((e) => {
          const out = formatClientError(e.toJSON(), e, api.development);
          metrics.errors.inc({ code: String(out.extensions?.code ?? ERROR_CODE.badUserInput) });
          return out;
        }),
    },
    wss,
  );

  feed.start();
  // Subscriptions report changes after the sequence the feed starts from: know it before listening
  // (bounded, so that a Neo4j that is down does not keep the API from starting).
  await Promise.race([feed.ready(), new Promise((r) => setTimeout(r, 5000).unref())]);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(api.port, api.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = api.host.includes(':') ? `[${api.host}]` : api.host;
  const url = `http://${host}:${port}${api.path}`;
  const wsUrl = `ws://${host}:${port}${api.path}`;
  const mapUrl = `http://${host}:${port}${MAP_PAGE_PATH}`;
  log.info({ url, wsUrl, mapUrl, auth: tokens.enabled, introspection: api.introspection, explorer: api.explorer }, 'GraphQL API listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // In order: no new events, close subscriptions and sockets, stop accepting HTTP, then Neo4j.
      stopWatchingTokens();
      await feed.close();
      log.debug('change feed closed');
      // Closes every socket (1001) and the WebSocket server itself.
      await wsServer.dispose();
      log.debug('WebSocket server closed');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(force);
      log.debug('HTTP server closed');
      await apollo.stop();
      if (ownGraph) await ownGraph.close();
      log.info('GraphQL API stopped');
    })());
  return { url, wsUrl, mapUrl, port, stop };
}
