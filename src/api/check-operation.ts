import { type DocumentNode, GraphQLError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { ERROR_CODE } from './api-errors';
import { type CostCaps, estimateOperationCost } from './estimate-operation-cost';

/** The limits an operation is checked against before it runs (from the `api` settings). */
export interface OperationLimits extends CostCaps {
  /** HG_API_MAX_COST: largest estimated cost of one operation. */
  readonly maxCost: number;
  /** HG_API_MAX_ROOT_FIELDS: most root fields (aliases included) in one operation. */
  readonly maxRootFields: number;
}

/**
 * Checks an operation before it runs: what the transport serves (HTTP: queries; WebSocket: queries
 * and subscriptions; nothing serves mutations, the API is read-only), the number of root fields
 * and the estimated cost. Returns the error to answer with, or undefined. Pure.
 */
export function checkOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  transport: 'http' | 'ws',
  limits: OperationLimits,
): GraphQLError | undefined {
  if (operation.operation === 'mutation') {
    return new GraphQLError('this API is read-only: it has no mutations (the graph is written by collectors)', {
      nodes: [operation],
      extensions: { code: ERROR_CODE.badRequest },
    });
  }
  if (operation.operation === 'subscription' && transport === 'http') {
    return new GraphQLError('subscriptions are served over WebSocket (graphql-transport-ws) on this same path; HTTP serves queries', {
      nodes: [operation],
      extensions: { code: ERROR_CODE.badRequest },
    });
  }
  const { cost, rootFields } = estimateOperationCost(schema, document, operation, variables, limits);
  if (rootFields.length > limits.maxRootFields) {
    return new GraphQLError(
      `the operation asks for ${rootFields.length} root fields (aliases count); at most ${limits.maxRootFields} are allowed (HG_API_MAX_ROOT_FIELDS)`,
      { nodes: [operation], extensions: { code: ERROR_CODE.validationFailed, rootFields: rootFields.length, maxRootFields: limits.maxRootFields } },
    );
  }
  if (cost > limits.maxCost) {
    const costliest = [...rootFields]
      .sort((a, b) => b.cost - a.cost)
      .slice(0, 3)
      .map((f) => (f.key === f.field ? `${f.field} ${f.cost}` : `${f.key}: ${f.field} ${f.cost}`));
    return new GraphQLError(
      `the operation's estimated cost ${cost} is above the limit ${limits.maxCost} (HG_API_MAX_COST); costliest root fields: ${costliest.join(', ')}. ` +
        'Ask for fewer items (first, limit, topN), fewer hops (maxHops, depth) or fewer fields',
      { nodes: [operation], extensions: { code: ERROR_CODE.validationFailed, cost, maxCost: limits.maxCost } },
    );
  }
  return undefined;
}
