import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError } from 'graphql';
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
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), corePlugin(core)],
    formatError: (formatted, error) => core.formatError(formatted, error),
  });
  await apollo.start();
  return apollo;
}
