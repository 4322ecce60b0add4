import type { JsonTree } from './gql-client';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** A real graphql-ws client over `ws`, for tests; `close()` disposes it. */
export function wsClient(url: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/** Collects subscription results until `count` arrived or `timeoutMs` passed. */
export function collect<T = JsonTree>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: { data?: T; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[] = [];
  /** When each result arrived (Date.now()), by index. */
  const arrivedMs: number[] = [];
  let done = false;
  let failure: unknown;
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        results.push(r as never);
        arrivedMs.push(Date.now());
      },
      error: (e) => {
        failure = e;
        done = true;
      },
      complete: () => (done = true),
    },
  );
  return {
    results,
    arrivedMs,
    get failure() {
      return failure;
    },
    get done() {
      return done;
    },
    unsubscribe,
    /**
     * Waits until `pred` holds on the results (checked every 25 ms); fails naming what arrived when
     * the subscription ends or the timeout passes first.
     */
    async until(pred: (r: typeof results) => boolean, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pred(results) && !done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      if (pred(results)) return;
      const why = done ? `the subscription ended (${JSON.stringify(failure ?? 'completed')})` : `${timeoutMs} ms passed`;
      throw new Error(`${why} before the awaited results; ${results.length} arrived: ${JSON.stringify(results).slice(0, 2000)}`);
    },
  };
}

/** Reads one gauge/counter value from /metrics text. */
export async function metricValue(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(new URL('/metrics', baseUrl))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

export async function waitForMetric(baseUrl: string, name: string, labels: string, value: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await metricValue(baseUrl, name, labels)) === value) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name}{${labels}} did not reach ${value} within ${timeoutMs} ms`);
}
