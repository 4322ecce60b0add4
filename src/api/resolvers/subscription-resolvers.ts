import { callMatches } from '../../graph/cypher/api-call-queries';
import type { SubscriptionResolvers } from '../generated/graphql-types';
import { matchesLabelSelector } from '../label-selector';
import type { GqlCall, GqlEndpoint } from '../to-graphql';
import { type PodFilterConditions, toCallConditions, toPodConditions } from './to-conditions';

/** In-memory form of the pod filter, for `podAdded` (the Cypher form is buildPodsPage's). */
export function podMatches(pod: GqlEndpoint, c: PodFilterConditions): boolean {
  if (c.namespaces && !c.namespaces.includes(pod.namespace ?? '')) return false;
  if (c.requirements && !matchesLabelSelector(pod.rawLabels, c.requirements)) return false;
  if (c.workload !== undefined && pod.workload !== c.workload && pod.workloadName !== c.workload) return false;
  if (c.kind !== undefined && pod.workloadKind !== c.kind) return false;
  if (c.activeSince !== undefined && (!pod.lastSeen || Date.parse(pod.lastSeen) < Date.parse(c.activeSince))) return false;
  return true;
}

/** Subscriptions: the change feed's events of one topic that pass the filter, each sent as it is. */
export const subscriptionResolvers: SubscriptionResolvers = {
  callAdded: {
    subscribe: (_p, args, ctx) => {
      const c = toCallConditions(args.filter, 'filter');
      return ctx.feed.subscribe('callAdded', (call) => callMatches(call, c));
    },
    resolve: (call: GqlCall) => call,
  },
  callUpdated: {
    subscribe: (_p, args, ctx) => {
      const c = toCallConditions(args.filter, 'filter');
      return ctx.feed.subscribe('callUpdated', (call) => callMatches(call, c));
    },
    resolve: (call: GqlCall) => call,
  },
  podAdded: {
    subscribe: (_p, args, ctx) => {
      const c = toPodConditions(args.filter, 'filter');
      return ctx.feed.subscribe('podAdded', (pod) => podMatches(pod, c));
    },
    resolve: (pod: GqlEndpoint) => pod,
  },
};
