import type { Resolvers } from '../generated/graphql-types';
import { callQueries } from './call-resolvers';
import { endpointFieldResolvers, endpointQueries } from './endpoint-resolvers';
import { mapQueries } from './map-resolvers';
import { pathQueries } from './path-resolvers';
import { policyQueries } from './policy-resolvers';
import { statsQueries } from './stats-resolvers';
import { subscriptionResolvers } from './subscription-resolvers';
import { timeQueries } from './time-resolvers';

/** The resolvers of schema.graphql, by type and field, typed by the types generated from it (npm run codegen). */
export function buildResolvers(): Resolvers {
  return {
    Query: { ...statsQueries, ...endpointQueries, ...callQueries, ...mapQueries, ...timeQueries, ...pathQueries, ...policyQueries },
    Subscription: subscriptionResolvers,
    Endpoint: { __resolveType: (endpoint) => endpoint.__typename },
    ...endpointFieldResolvers,
  };
}
