import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
  execute,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import type { ApiConfig } from '../config';
import { errorMessage } from '../errors';
import type { Executor } from '../graph/executor';
import type { Logger } from '../logger';
import type { BucketSpec } from '../model/time-buckets';
import { type ApiContext, createApiContext } from './api-context';
import { ERROR_CODE, formatClientError } from './api-errors';
import { type ApiMetrics, createApiMetrics } from './api-metrics';
import { type TokenSet, watchTokensFile } from './auth';
import { buildApiSchema } from './build-api-schema';
import { ChangeFeed } from './change-feed';
import { type OperationLimits, type OperationRequest, checkOperation, operationVariables, precheckOperation } from './check-operation';
import { DeadlineSemaphore } from './deadline-semaphore';
import { estimateOperationCost } from './estimate-operation-cost';
import { GraphVersionCache } from './graph-version-cache';
import { VersionedAnswers } from './versioned-answers';
import { type GraphReader, pingGraph, withVersionReadOnce } from './read-graph';
import { createRequestReader } from './request-reader';

/** Which adapter an operation came through: HTTP serves queries, WebSocket queries and subscriptions. */
export type Transport = 'http' | 'ws';

/** What the core answers for an `Authorization` value (HTTP header, or graphql-ws connection_init payload). */
export type AuthOutcome = 'accepted' | 'missing' | 'refused';

/** What the core needs. */
export interface ApiCoreOptions {
  /** The `api` settings (limits, tokens file, introspection, development, poll intervals). */
  readonly api: ApiConfig;
  /** Bucket sizes the store keeps (HG_BUCKETS): what `range` arguments are answered from. */
  readonly buckets: BucketSpec;
  /** Bound of every Neo4j transaction (HG_NEO4J_QUERY_TIMEOUT), in ms. */
  readonly queryTimeoutMs: number;
  /** Accepted bearer tokens at start (loadTokens); the tokens file, if any, is watched from start() on. */
  readonly tokens: TokenSet;
  /** Read transactions on Neo4j (the executor, or a narrower reader in tests). */
  readonly reader: Pick<Executor, 'read' | 'readTx'>;
  readonly log: Logger;
}

/** An operation ready to run with graphql-js's execute or subscribe, or the errors that refuse it. */
export type PreparedOperation =
  | { readonly ok: true; readonly args: ExecutionArgs & { contextValue: ApiContext }; readonly operation: OperationDefinitionNode }
  | { readonly ok: false; readonly errors: readonly GraphQLError[] };

/**
 * The GraphQL API without a transport: schema and resolvers, validation rules (depth, introspection),
 * the operation checks (what a transport serves, root fields, cost), the per-operation context with
 * its bounded reader, error formatting, authentication, metrics and the change feed. The HTTP
 * adapter (Apollo, src/api/http/) and the WebSocket adapter (graphql-ws, src/api/ws/) call it; it
 * imports neither (`npm run layers` checks that).
 */
export interface ApiCore {
  readonly schema: GraphQLSchema;
  /** Rules beyond graphql-js's specified ones: the depth limit, and no introspection when it is off. */
  readonly validationRules: readonly ValidationRule[];
  readonly metrics: ApiMetrics;
  /** Whole answers of the all-time map operations, kept while the graph is unchanged (HTTP serves hits from them). */
  readonly answers: VersionedAnswers;
  /** Whether an `Authorization` value may use the API (always accepted when no token is configured). */
  authenticate(authorization: unknown): AuthOutcome;
  /** Whether authentication is on (tokens configured). */
  readonly authEnabled: boolean;
  /** Calls `listener` after the tokens file changed (adapters drop what the new tokens refuse); returns the remover. */
  onTokensChange(listener: () => void): () => void;
  /**
   * The cheap refusal of an operation not yet parsed and validated (mutations, subscriptions over
   * HTTP, too many root fields, too costly); counts it as refused. Undefined when it cannot tell.
   */
  precheck(request: OperationRequest, transport: Transport): GraphQLError | undefined;
  /** Counts an operation received (`requests_total` by transport and operation type, `unknown` without one). */
  countOperation(transport: Transport, operation: OperationDefinitionNode | null | undefined): void;
  /**
   * The check every operation passes once parsed and validated, on every transport: refuses what the
   * transport does not serve or what is over the limits; otherwise records the operation's estimated
   * cost on its context, so that costly ones share the heavy sessions.
   */
  admit(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Readonly<Record<string, unknown>> | undefined,
    transport: Transport,
    context: ApiContext,
  ): GraphQLError | undefined;
  /**
   * Precheck, parse, validate and admit an operation, with a new context: ready for execute (queries)
   * or subscribe (subscriptions). The WebSocket adapter runs every operation through it.
   */
  prepare(request: OperationRequest, transport: Transport): PreparedOperation;
  /** prepare and execute a query, its errors formatted: GraphQL without any transport (tests, tools). */
  execute(request: OperationRequest, transport: Transport): Promise<FormattedExecutionResult>;
  /** A new context, with its own bounded reader: `request` scope for queries, `transaction` for subscriptions. */
  createContext(scope: 'request' | 'transaction'): ApiContext;
  /**
   * The error as the client sees it (code mapped, no stack outside development), counted by that
   * code (`fallbackCode` when it has none); internal errors are logged with their cause.
   */
  formatError(formatted: GraphQLFormattedError, error: unknown, fallbackCode?: string): GraphQLFormattedError;
  /** Resolves when Neo4j answers a trivial read (readiness). */
  ping(): Promise<void>;
  /** Starts the change feed and the tokens file watch; waits (at most 5 s) for the feed's starting point. */
  start(): Promise<void>;
  /** Stops watching the tokens file, then closes the change feed (ending every subscription's stream). */
  stop(): Promise<void>;
}

/** How long start() waits for the change feed's first read: a Neo4j that is down must not keep the API from starting. */
const FEED_READY_WAIT_MS = 5000;

/** Times every read transaction for /metrics. */
function timedReader(reader: Pick<Executor, 'read' | 'readTx'>, metrics: ApiMetrics): GraphReader {
  return {
    async read(query, params, options) {
      const end = metrics.neo4jSeconds.startTimer({ kind: 'read' });
      try {
        return await reader.read(query, params, options);
      } finally {
        end();
      }
    },
    async readTx(work, options) {
      const end = metrics.neo4jSeconds.startTimer({ kind: 'readTx' });
      try {
        return await reader.readTx(work, options);
      } finally {
        end();
      }
    },
  };
}

/**
 * Times the top-level resolvers of queries and mutations for /metrics, by wrapping them in the
 * schema. (An Apollo plugin's willResolveField would do it too, but its presence makes Apollo wrap
 * every field of every answer: a third of the time of a 10k-edge service map.)
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

/** The depth limit and, when introspection is off, graphql-js's rule against it. */
function buildValidationRules(api: Pick<ApiConfig, 'maxDepth' | 'introspection'>): ValidationRule[] {
  // Report limit violations as validation errors (graphql-armor throws by default, which Apollo
  // turns into a 500).
  const armor = {
    propagateOnRejection: false,
    onReject: [
      (ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''))),
    ],
  };
  // Root fields and cost depend on variables, so they are checked once the operation is known
  // (admit), not by validation rules, whose results Apollo caches per document.
  const maxDepth = maxDepthRule({ n: api.maxDepth, ...armor });
  const depth: ValidationRule = (context) => maxDepth(context);
  return [depth, ...(api.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
}

/** Builds the transport-free API core. Nothing runs until start() (the change feed polls from then on). */
export function createApiCore(options: ApiCoreOptions): ApiCore {
  const { api, log } = options;
  let tokens = options.tokens;
  const tokenListeners = new Set<() => void>();
  let stopWatchingTokens: () => void = () => undefined;
  const schema = buildApiSchema();
  const metrics = createApiMetrics(() => feed.counts());
  timeRootResolvers(schema, metrics);
  const reader = timedReader(options.reader, metrics);
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
  const limits = { maxHops: api.maxHops, maxPageSize: api.maxPageSize, buckets: options.buckets };
  const operationLimits: OperationLimits = {
    maxHops: api.maxHops,
    maxPageSize: api.maxPageSize,
    maxCost: api.maxCost,
    maxRootFields: api.maxRootFields,
  };
  const mapCache = new GraphVersionCache(128, api.mapMaxAgeMs);
  const answers = new VersionedAnswers(64, (hit) => metrics.answerCache.inc({ result: hit ? 'hit' : 'miss' }), api.mapMaxAgeMs);
  const heavy = { sessions: new DeadlineSemaphore(api.maxHeavySessions), fromCost: api.heavyCost };
  const validationRules = buildValidationRules(api);

  // Every query (HTTP or WebSocket) or subscription reads through its own bounded reader.
  const createContext = (scope: 'request' | 'transaction'): ApiContext => {
    const requestReader = createRequestReader(reader, {
      maxSessions: api.maxSessionsPerRequest,
      timeoutMs: api.readTimeoutMs,
      scope,
      queryTimeoutMs: options.queryTimeoutMs,
      heavy,
    });
    const contextReader = scope === 'request' ? withVersionReadOnce(requestReader) : requestReader;
    return createApiContext(contextReader, limits, feed, mapCache, (cost) => requestReader.setCost(cost));
  };

  const core: ApiCore = {
    schema,
    validationRules,
    metrics,
    answers,
    get authEnabled() {
      return tokens.enabled;
    },

    authenticate(authorization) {
      if (!tokens.enabled) return 'accepted';
      if (authorization === undefined) return 'missing';
      return tokens.accepts(authorization) ? 'accepted' : 'refused';
    },

    onTokensChange(listener) {
      tokenListeners.add(listener);
      return () => tokenListeners.delete(listener);
    },

    precheck(request, transport) {
      const refused = precheckOperation(schema, request, transport, operationLimits);
      if (refused) metrics.requests.inc({ transport, operation: 'refused' });
      return refused;
    },

    countOperation(transport, operation) {
      metrics.requests.inc({ transport, operation: operation?.operation ?? 'unknown' });
    },

    admit(document, operation, variables, transport, context) {
      const refused = checkOperation(schema, document, operation, variables, transport, operationLimits);
      if (refused) return refused;
      context.setOperationCost(estimateOperationCost(schema, document, operation, variables, operationLimits).cost);
      return undefined;
    },

    prepare(request, transport) {
      const early = core.precheck(request, transport);
      if (early) return { ok: false, errors: [early] };
      if (typeof request.query !== 'string')
        return { ok: false, errors: [new GraphQLError('the request has no query (a GraphQL document as a string)')] };
      let document: DocumentNode;
      try {
        document = parse(request.query);
      } catch (err) {
        return { ok: false, errors: [err instanceof GraphQLError ? err : new GraphQLError(errorMessage(err))] };
      }
      const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
      const variables = operationVariables(request);
      const operation = getOperationAST(document, operationName);
      // Counted once parsed, valid or not.
      core.countOperation(transport, operation);
      const invalid = validate(schema, document, [...specifiedRules, ...validationRules]);
      if (invalid.length > 0) return { ok: false, errors: invalid };
      if (!operation)
        return {
          ok: false,
          errors: [new GraphQLError('no operation to run: name one with operationName when the document holds several')],
        };
      // A query has its budget in all; a subscription lives long, and each of its reads has the budget.
      const contextValue = createContext(operation.operation === 'subscription' ? 'transaction' : 'request');
      const refused = core.admit(document, operation, variables, transport, contextValue);
      if (refused) return { ok: false, errors: [refused] };
      return { ok: true, operation, args: { schema, document, operationName, variableValues: variables, contextValue } };
    },

    async execute(request, transport) {
      const prepared = core.prepare(request, transport);
      const format = (errors: readonly GraphQLError[], fallbackCode: string) =>
        errors.map((e) => core.formatError(e.toJSON(), e, fallbackCode));
      if (!prepared.ok) return { errors: format(prepared.errors, ERROR_CODE.badUserInput) };
      if (prepared.operation.operation !== 'query') {
        return {
          errors: format(
            [new GraphQLError('execute() runs queries; subscriptions need a transport that streams (WebSocket)')],
            ERROR_CODE.badRequest,
          ),
        };
      }
      const result: ExecutionResult = await execute(prepared.args);
      return result.errors ? { ...result, errors: format(result.errors, ERROR_CODE.internal) } : { data: result.data };
    },

    createContext,

    formatError(formatted, error, fallbackCode = ERROR_CODE.internal) {
      const out = formatClientError(formatted, error, api.development);
      const code = String(out.extensions?.code ?? fallbackCode);
      metrics.errors.inc({ code });
      if (code === ERROR_CODE.internal) log.error({ err: errorMessage(error) }, 'GraphQL resolver failed');
      return out;
    },

    ping: () => pingGraph(reader),

    async start() {
      stopWatchingTokens = watchTokensFile(api, log, (next) => {
        tokens = next;
        for (const listener of tokenListeners) listener();
      });
      feed.start();
      // Subscriptions report changes after the sequence the feed starts from: know it before the
      // adapters listen (bounded, so that a Neo4j that is down does not keep the API from starting).
      await Promise.race([feed.ready(), new Promise((r) => setTimeout(r, FEED_READY_WAIT_MS).unref())]);
    },

    async stop() {
      stopWatchingTokens();
      await feed.close();
      log.debug('change feed closed');
    },
  };
  return core;
}
