import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { HubbleGraphError, Neo4jUnavailableError } from '../errors';

/** `extensions.code` values this API sets. */
export const ERROR_CODE = {
  badUserInput: 'BAD_USER_INPUT',
  serviceUnavailable: 'SERVICE_UNAVAILABLE',
  queryTimeout: 'QUERY_TIMEOUT',
  unauthenticated: 'UNAUTHENTICATED',
  /** A request the API does not serve (a mutation; a subscription over HTTP). */
  badRequest: 'BAD_REQUEST',
  /** An operation over a limit (depth, root fields, cost); Apollo's code for validation errors. */
  validationFailed: 'GRAPHQL_VALIDATION_FAILED',
  payloadTooLarge: 'PAYLOAD_TOO_LARGE',
  internal: 'INTERNAL_SERVER_ERROR',
} as const;

/** A client error about one argument; the message starts with the argument's path (e.g. `filter.labelSelector`). */
export function badUserInput(argument: string, message: string): GraphQLError {
  return new GraphQLError(`${argument}: ${message}`, { extensions: { code: ERROR_CODE.badUserInput, argument } });
}

/** Whether Neo4j ended a transaction because its timeout passed. */
export function isNeo4jTimeout(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.includes('TransactionTimedOut') || code.includes('TransactionTimedOutClientConfiguration');
}

/** A request ran out of its time budget (HG_API_READ_TIMEOUT). */
export class RequestTimeoutError extends HubbleGraphError {
  constructor(
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      'REQUEST_TIMEOUT',
      `the request took longer than the API read timeout of ${timeoutMs} ms (HG_API_READ_TIMEOUT); narrow it down`,
      options,
    );
  }
}

/**
 * The error a client sees for something a resolver threw: GraphQL errors as they are, Neo4j being
 * away as SERVICE_UNAVAILABLE, a Neo4j timeout as QUERY_TIMEOUT, anything else as an internal error
 * whose details stay in the server log (unless `development`).
 */
export function toClientError(err: unknown, development: boolean): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof Neo4jUnavailableError) {
    return new GraphQLError('the graph database is unavailable; try again shortly', {
      extensions: { code: ERROR_CODE.serviceUnavailable },
      originalError: development ? err : undefined,
    });
  }
  if (err instanceof RequestTimeoutError) {
    return new GraphQLError(err.message, { extensions: { code: ERROR_CODE.queryTimeout }, originalError: development ? err : undefined });
  }
  if (isNeo4jTimeout(err)) {
    return new GraphQLError('the query took longer than the Neo4j query timeout (HG_NEO4J_QUERY_TIMEOUT); narrow it down', {
      extensions: { code: ERROR_CODE.queryTimeout },
      originalError: development ? (err as Error) : undefined,
    });
  }
  if (err instanceof HubbleGraphError && err.code === 'BAD_INPUT') {
    return new GraphQLError(err.message, { extensions: { code: ERROR_CODE.badUserInput } });
  }
  return new GraphQLError(development && err instanceof Error ? err.message : 'internal server error', {
    extensions: { code: ERROR_CODE.internal },
    originalError: development && err instanceof Error ? err : undefined,
  });
}

/**
 * Final shape of every error on HTTP and WebSocket: the mapped code, and a stack trace only in
 * development mode.
 */
export function formatClientError(formatted: GraphQLFormattedError, error: unknown, development: boolean): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const mapped = original instanceof GraphQLError ? undefined : toClientError(original, development);
  const base = mapped
    ? { ...formatted, message: mapped.message, extensions: { ...formatted.extensions, ...mapped.extensions } }
    : formatted;
  if (development) return base;
  const { stacktrace: _stack, ...ext } = (base.extensions ?? {}) as Record<string, unknown>;
  void _stack;
  return { ...base, extensions: ext };
}
