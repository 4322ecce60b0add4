import http from 'node:http';
import type { Registry } from 'prom-client';
import { EnvironmentError, errorMessage } from '../errors';

export interface HealthServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  /** host:port; port 0 picks a free port. */
  readonly listen: string;
  readonly registry: Registry;
  /** Returns undefined when ready, or the reason it is not. */
  readonly notReadyReason: () => string | undefined | Promise<string | undefined>;
}

/** `/metrics` (Prometheus text format), `/healthz` (the process runs), `/readyz` (it can do its job). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const idx = options.listen.lastIndexOf(':');
  const host = options.listen.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(options.listen.slice(idx + 1));
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const path = (req.url ?? '/').split('?')[0];
        if (path === '/metrics') {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(await options.registry.metrics());
        } else if (path === '/healthz') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('ok\n');
        } else if (path === '/readyz') {
          const reason = await options.notReadyReason();
          res.writeHead(reason ? 503 : 200, { 'content-type': 'text/plain' });
          res.end(reason ? `not ready: ${reason}\n` : 'ready\n');
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found: try /metrics, /healthz or /readyz\n');
        }
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`${errorMessage(err)}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new EnvironmentError(
              `port ${port} on ${host} is already taken; choose another with HG_COLLECTOR_LISTEN / --collector-listen (port 0: any free port)`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    port: actual,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
