import { type Client, createClient } from 'graphql-ws';

/** The API refused the request for want of a (valid) bearer token. */
export class UnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** A GraphQL error answer, with the first error's message and code. */
export class GraphqlError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'GraphqlError';
  }
}

export interface GraphqlClientOptions {
  /** `http(s)://host:port/graphql`. */
  httpUrl: string;
  /** `ws(s)://host:port/graphql`. */
  wsUrl: string;
  /** The bearer token to send, if any (read on every request and connection). */
  getToken: () => string | null;
  /** Called when the API refuses the token (HTTP 401, WebSocket close 4401/4403). */
  onUnauthorized: () => void;
}

export interface SubscriptionSink<T> {
  next: (data: T) => void;
  error?: (err: Error) => void;
}

/** GraphQL over HTTP (queries) and graphql-ws (subscriptions), both carrying the tab's token. */
export interface GraphqlClient {
  query<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Starts a subscription; returns its disposer. */
  subscribe<T>(query: string, variables: Record<string, unknown>, sink: SubscriptionSink<T>): () => void;
  /** Closes the WebSocket (subscriptions end); the next subscribe opens a new one with the current token. */
  reconnect(): void;
  dispose(): void;
}

/** Creates the page's only way to talk to the API. */
export function createGraphqlClient(o: GraphqlClientOptions): GraphqlClient {
  const authHeader = (): Record<string, string> => {
    const token = o.getToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  let ws: Client | null = null;
  const wsClient = () =>
    (ws ??= createClient({
      url: o.wsUrl,
      lazy: true,
      connectionParams: () => authHeader(),
      retryAttempts: Infinity,
      shouldRetry: (e) => !(typeof e === 'object' && e !== null && 'code' in e && (e.code === 4401 || e.code === 4403)),
      on: {
        closed: (e) => {
          if (typeof e === 'object' && e !== null && 'code' in e && (e.code === 4401 || e.code === 4403)) o.onUnauthorized();
        },
      },
    }));
  return {
    async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const res = await fetch(o.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeader() },
        body: JSON.stringify({ query, variables }),
      });
      if (res.status === 401) {
        o.onUnauthorized();
        throw new UnauthorizedError('the API needs a bearer token');
      }
      const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
      const [firstError] = body.errors ?? [];
      if (firstError) throw new GraphqlError(firstError.message, firstError.extensions?.code);
      if (!body.data) throw new GraphqlError(`HTTP ${res.status} without data`, undefined);
      return body.data;
    },
    subscribe<T>(query: string, variables: Record<string, unknown>, sink: SubscriptionSink<T>): () => void {
      return wsClient().subscribe<T>(
        { query, variables },
        {
          next: (r) => {
            if (r.data) sink.next(r.data as T);
          },
          error: (e) => sink.error?.(e instanceof Error ? e : new Error(JSON.stringify(e))),
          complete: () => undefined,
        },
      );
    },
    reconnect() {
      void ws?.dispose();
      ws = null;
    },
    dispose() {
      void ws?.dispose();
      ws = null;
    },
  };
}
