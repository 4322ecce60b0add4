import { type DocumentNode, GraphQLError, type GraphQLSchema, type OperationDefinitionNode, getOperationAST, parse } from 'graphql';
import { ERROR_CODE } from './api-errors';
import { type CostCaps, TooManyFieldsError, estimateOperationCost, listRootFields } from './estimate-operation-cost';

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
  // The cheap count first: a request with thousands of aliases is refused before it is costed.
  let count: number;
  try {
    count = listRootFields(schema, document, operation).length;
  } catch (err) {
    if (!(err instanceof TooManyFieldsError)) throw err;
    count = Number.POSITIVE_INFINITY;
  }
  if (count > limits.maxRootFields) {
    return new GraphQLError(
      `the operation asks for ${Number.isFinite(count) ? count : 'too many'} root fields (aliases count); at most ${limits.maxRootFields} are allowed (HG_API_MAX_ROOT_FIELDS)`,
      {
        nodes: [operation],
        extensions: {
          code: ERROR_CODE.validationFailed,
          rootFields: Number.isFinite(count) ? count : null,
          maxRootFields: limits.maxRootFields,
        },
      },
    );
  }
  const { cost, rootFields } = estimateOperationCost(schema, document, operation, variables, limits);
  if (!Number.isFinite(cost)) {
    return new GraphQLError(
      `the operation selects too many fields once its fragments are expanded; its cost is above any limit (HG_API_MAX_COST ${limits.maxCost})`,
      {
        nodes: [operation],
        extensions: { code: ERROR_CODE.validationFailed, maxCost: limits.maxCost },
      },
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

/** An operation as a client sends it (GraphQL over HTTP: JSON body or GET parameters). */
export interface OperationRequest {
  readonly query?: unknown;
  readonly operationName?: unknown;
  readonly variables?: unknown;
}

/** The variables of a request when they are an object (anything else is left to validation to refuse). */
export function operationVariables(request: OperationRequest): Readonly<Record<string, unknown>> | undefined {
  return request.variables && typeof request.variables === 'object' ? (request.variables as Record<string, unknown>) : undefined;
}

/**
 * checkOperation on a request not yet parsed or validated, so that what is refused costs a parse
 * and a count, not a validation (graphql-js takes about half a second to validate 1,000 aliases).
 * Returns undefined when it cannot tell (no query text, a syntax error, no single operation, a
 * document too deep to walk): the full pipeline then answers. Pure.
 */
export function precheckOperation(
  schema: GraphQLSchema,
  request: OperationRequest,
  transport: 'http' | 'ws',
  limits: OperationLimits,
): GraphQLError | undefined {
  if (typeof request.query !== 'string') return undefined;
  try {
    const document = parse(request.query);
    const operation = getOperationAST(document, typeof request.operationName === 'string' ? request.operationName : undefined);
    if (!operation) return undefined;
    return checkOperation(schema, document, operation, operationVariables(request), transport, limits);
  } catch {
    return undefined;
  }
}
