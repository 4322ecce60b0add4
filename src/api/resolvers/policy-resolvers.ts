import { buildPolicyCheck } from '../../policy/build-policy-check';
import { type DraftKind, buildPolicyDrafts } from '../../policy/build-policy-drafts';
import { PolicyDocumentError, parsePolicyDocuments } from '../../policy/parse-policy-documents';
import type { ParsedPolicySet } from '../../policy/policy-model';
import { badUserInput } from '../api-errors';
import type { PolicyFormat, QueryResolvers } from '../generated/graphql-types';
import { readObservedTraffic } from '../read-graph';
import { toNetworkPolicyDrafts, toPolicyCheck } from '../to-policy-graphql';
import { checkFirst, checkWords } from '../validate-args';
import { toPolicyScope } from './to-conditions';
import { toAnswerRange, toWindow } from './to-window';

/** Verdicts that policy drafts allow and the impact check checks, unless the client names others. */
const DEFAULT_POLICY_VERDICTS: readonly string[] = ['FORWARDED'];

/** The kinds of policy a `format` asks for: both when absent. */
function toDraftKinds(format: PolicyFormat | null | undefined): DraftKind[] {
  if (format === 'CILIUM') return ['CiliumNetworkPolicy'];
  if (format === 'KUBERNETES') return ['NetworkPolicy'];
  return ['CiliumNetworkPolicy', 'NetworkPolicy'];
}

/** `networkPolicies` (drafts learned from observed traffic) and `policyCheck` (what given policies would drop). */
export const policyQueries: QueryResolvers = {
  networkPolicies: async (_p, args, ctx) => {
    const scope = toPolicyScope(args.scope);
    const verdicts = checkWords(args.verdicts, 'verdicts') ?? DEFAULT_POLICY_VERDICTS;
    const range = toWindow(args.range, 'range', ctx.limits);
    const edges = await readObservedTraffic(ctx.reader, { verdicts, range });
    return {
      ...toNetworkPolicyDrafts(buildPolicyDrafts(edges, { scope, verdicts, kinds: toDraftKinds(args.format) })),
      range: toAnswerRange(range),
    };
  },

  policyCheck: async (_p, args, ctx) => {
    const verdicts = checkWords(args.verdicts, 'verdicts') ?? DEFAULT_POLICY_VERDICTS;
    const first = checkFirst(args.first, 'first', ctx.limits.maxPageSize);
    let set: ParsedPolicySet;
    try {
      set = parsePolicyDocuments(args.yaml, { source: 'yaml' });
    } catch (err) {
      if (err instanceof PolicyDocumentError) throw badUserInput('yaml', err.message);
      throw err;
    }
    const range = toWindow(args.range, 'range', ctx.limits);
    const edges = await readObservedTraffic(ctx.reader, { verdicts, range });
    return { ...toPolicyCheck(buildPolicyCheck(set, edges, { verdicts }), first, range), range: toAnswerRange(range) };
  },
};
