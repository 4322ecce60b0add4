import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config';
import { type Graph, openGraph } from '../graph/open-graph';
import type { Logger } from '../logger';
import { loadTokens } from './auth';
import { createApiCore } from './create-api-core';
import { createHttpHandler } from './http/create-http-handler';
import { MAP_PAGE_PATH } from './http/map-page';
import { useGraphqlWs } from './ws/use-graphql-ws';
import { VERSION } from '../build-info';

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

/**
 * Starts the GraphQL API: the transport-free core (src/api/create-api-core.ts) with its two
 * adapters on one Node HTTP server and path: HTTP (Apollo Server, no express; `/healthz`, `/readyz`,
 * `/metrics`, the offline explorer, the map page) and WebSocket (graphql-ws). Without a `graph`, it
 * opens Neo4j from `config` and applies migrations; a given graph is left open by stop().
 */
export async function startApiServer(config: AppConfig, log: Logger, graph?: Pick<Graph, 'executor'>): Promise<ApiServer> {
  const api = config.api;
  // Before Neo4j: a tokens file that cannot be read is a configuration error, reported at once.
  const tokens = loadTokens(api);
  let ownGraph: Graph | undefined;
  const { executor } = graph ?? (ownGraph = await openGraph(config, log, { migrate: true }));
  const core = createApiCore({
    api,
    buckets: config.time.buckets,
    queryTimeoutMs: config.neo4j.queryTimeoutMs,
    tokens,
    reader: executor,
    log,
  });
  const httpHandler = await createHttpHandler(core, api, log);
  const server = http.createServer(httpHandler.handle);
  const ws = useGraphqlWs(core, server, api.path);

  await core.start();
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
  log.info(
    { url, wsUrl, mapUrl, auth: core.authEnabled, introspection: api.introspection, explorer: api.explorer, version: VERSION },
    'GraphQL API listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // In order: no new events (tokens watch, change feed), close subscriptions and sockets, stop
      // accepting HTTP, then Apollo and Neo4j.
      await core.stop();
      await ws.dispose();
      log.debug('WebSocket server closed');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(force);
      log.debug('HTTP server closed');
      await httpHandler.stop();
      if (ownGraph) await ownGraph.close();
      log.info('GraphQL API stopped');
    })());
  return { url, wsUrl, mapUrl, port, stop };
}
