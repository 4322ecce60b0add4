/**
 * Network policy from the observed graph, the pure core (docs/network-policy.md): least-privilege
 * drafts, HTTP path patterns, and the impact check of a policy set against observed traffic.
 * No I/O: callers fill `ObservedEdge`s from the graph and print what comes back.
 */
export type { HttpPathCount, HttpPathCounts } from '../model/http-path-counts';
export type { ObservedEdge, ObservedEndpoint, ObservedProtocol } from './observed-traffic';
export { DNS_PORT, isDnsEdge, toEdgeKey, workloadKeyOf } from './observed-traffic';
export { toHttpPathPattern, toHttpPathRegex } from './http-path-pattern';
export {
  DEFAULT_MAX_HTTP_PATHS,
  HttpPathAccumulator,
  mergeHttpPathCounts,
  parseStoredHttpPaths,
  toHttpMethod,
  toHttpPathPair,
} from './http-path-accumulator';
export type { WorkloadSelector } from './build-workload-selectors';
export { buildWorkloadSelectors, isStableWorkloadLabel } from './build-workload-selectors';
export type { DraftComment, DraftKind, DraftScope, PolicyDraft, PolicyDraftOptions, PolicyDrafts } from './build-policy-drafts';
export { DRAFT_NAME_SUFFIX, buildPolicyDrafts } from './build-policy-drafts';
export { toPolicyDocumentYaml, toPolicyYaml } from './to-policy-yaml';
export type { ParsePolicyOptions } from './parse-policy-documents';
export { PolicyDocumentError, parsePolicyDocuments } from './parse-policy-documents';
export type { ParsedPolicy, ParsedPolicySet, PolicyKind, PolicyRef, PolicyWarning, RuleRef } from './policy-model';
export { toPolicyName, toRuleName } from './policy-model';
export type { DeniedCounts, EdgeDecision, EdgeVerdict, PolicyCheckOptions, PolicyCheckResult, SideDecision } from './build-policy-check';
export { buildEdgeDecision, buildPolicyCheck } from './build-policy-check';
export type { ImpactGroup, ImpactSummary } from './to-impact-summary';
export { toImpactSummary } from './to-impact-summary';
