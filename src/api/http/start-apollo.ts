import { ApolloServer, type ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { type FormattedExecutionResult, GraphQLError } from 'graphql';
import type { ApiContext } from '../api-context';
import type { ApiCore } from '../create-api-core';

/**
 * The core's gate on Apollo's pipeline: once Apollo has parsed and validated an operation (with the
 * core's rules), it is counted and admitted by the core; a refusal is answered with status 400.
 * The HTTP handler's precheck refuses most of it earlier, before validation; this also sees
 * operations it could not (persisted queries).
 */
function corePlugin(core: ApiCore): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, contextValue }) {
          core.countOperation('http', operation);
          if (!operation) return;
          const refused = core.admit(document, operation, request.variables, 'http', contextValue);
          if (refused)
            throw new GraphQLError(refused.message, { nodes: refused.nodes, extensions: { ...refused.extensions, http: { status: 400 } } });
        },
      };
    },
  };
}

/**
 * The core's kept answers on Apollo's pipeline: an all-time map operation asked again while the
 * graph is unchanged is answered without executing it (after the core's gate, so it is counted and
 * admitted as any other); the answer of one that runs is kept, unless it has errors.
 */
function answersPlugin(core: ApiCore): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      let keep: ((answer: FormattedExecutionResult) => void) | undefined;
      return {
        async responseForOperation({ operation, request, queryHash, contextValue }) {
          const key = [queryHash, request.operationName ?? null, request.variables ?? {}];
          const found = await core.answers.find(operation, key, contextValue.reader);
          if (found === undefined) return null;
          if (found.answer !== undefined)
            return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: found.answer } };
          keep = found.keep;
          return null;
        },
        async willSendResponse({ response }) {
          if (keep !== undefined && response.body.kind === 'single') keep(response.body.singleResult);
        },
      };
    },
  };
}

/** Apollo Server on the core's schema, rules and error formatting: GraphQL over HTTP, started. */
export async function startApollo(
  core: ApiCore,
  options: { introspection: boolean; development: boolean },
): Promise<ApolloServer<ApiContext>> {
  const apollo = new ApolloServer<ApiContext>({
    schema: core.schema,
    introspection: options.introspection,
    // Apollo would stop itself on SIGTERM and then re-raise the signal, killing the process before
    // our own ordered shutdown ran; the caller (serve, run) owns the signals.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: options.development,
    validationRules: [...core.validationRules],
    // Apollo's default landing page loads from a CDN; the explorer here is served from local files.
    // No cache hints are used; Apollo's default cache-control plugin would visit every field of an answer.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), corePlugin(core), answersPlugin(core)],
    formatError: (formatted, error) => core.formatError(formatted, error),
    stringifyResult: (result) => core.answers.stringify(result),
  });
  await apollo.start();
  return apollo;
}
