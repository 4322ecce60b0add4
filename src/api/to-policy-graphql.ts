import type { EdgeDecision, PolicyCheckResult, SideDecision } from '../policy/build-policy-check';
import type { PolicyDraft, PolicyDrafts } from '../policy/build-policy-drafts';
import { toRuleName } from '../policy/policy-model';
import { type CheckedRange, toImpactSummary } from '../policy/to-impact-summary';
import { toPolicyDocumentYaml, toPolicyYaml } from '../policy/to-policy-yaml';
import type { NetworkPolicyDrafts, PolicyCheck, PolicyEdgeDecision, PolicySide, PolicyVerdict } from './generated/graphql-types';

/** Pure mappings from the policy module's results to the shapes of schema.graphql (as generated from it). */

export function toNetworkPolicyDrafts(drafts: PolicyDrafts): NetworkPolicyDrafts {
  return {
    yaml: toPolicyYaml(drafts.policies),
    policies: drafts.policies.map((d: PolicyDraft) => ({
      kind: d.kind,
      namespace: d.namespace,
      name: d.name,
      workload: d.workload,
      yaml: toPolicyDocumentYaml(d),
      manifest: d.manifest,
    })),
    warnings: [...drafts.warnings],
  };
}

const VERDICT: Readonly<Record<EdgeDecision['verdict'], PolicyVerdict>> = { allowed: 'ALLOWED', denied: 'DENIED', partial: 'PARTIAL' };
/** Edges are listed denied first, then partial, then allowed. */
const VERDICT_RANK: Readonly<Record<EdgeDecision['verdict'], number>> = { denied: 0, partial: 1, allowed: 2 };

function iso(ms: number): string | null {
  return ms > 0 ? new Date(ms).toISOString() : null;
}

function toSide(side: SideDecision): PolicySide {
  return {
    endpoint: side.endpoint,
    outcome: side.outcome,
    allowedBy: side.allowedBy.map(toRuleName),
    deniedBy: side.deniedBy.map(toRuleName),
    reason: side.reason,
  };
}

function toEdgeDecision(d: EdgeDecision): PolicyEdgeDecision {
  const e = d.edge;
  return {
    key: d.key,
    source: e.source.id,
    destination: e.destination.id,
    port: e.port,
    protocol: e.protocol,
    verdict: VERDICT[d.verdict],
    flows: e.flows,
    connections: e.connections,
    requests: e.requests,
    firstSeen: iso(e.firstSeenMs),
    lastSeen: iso(e.lastSeenMs),
    egress: toSide(d.egress),
    ingress: toSide(d.ingress),
    deniedFlows: d.denied.flows,
    deniedConnections: d.denied.connections,
    deniedRequests: d.denied.requests,
    refused: [...d.deniedHttp.map((p) => `${p.method} ${p.pattern}`), ...d.deniedDnsNames.map((n) => `dns ${n}`)],
    assumptions: [...d.assumptions],
  };
}

/** A check result as `PolicyCheck`, with at most `first` edges. */
export function toPolicyCheck(result: PolicyCheckResult, first: number, range?: CheckedRange): PolicyCheck {
  const summary = toImpactSummary(result, range);
  const edges = [...result.decisions]
    .sort((a, b) => VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, first)
    .map(toEdgeDecision);
  return {
    summary: [...summary.lines],
    checked: summary.checked,
    allowed: summary.allowed,
    denied: summary.denied,
    partial: summary.partial,
    skipped: summary.skipped,
    impacts: summary.groups.map((g, i) => ({
      from: g.from,
      to: g.to,
      port: g.port,
      protocol: g.protocol,
      verdict: VERDICT[g.verdict],
      edges: g.edges,
      flows: g.flows,
      connections: g.connections,
      requests: g.requests,
      calls: g.calls,
      callUnit: g.callUnit,
      lastSeen: iso(g.lastSeenMs),
      refused: [...g.refused],
      reasons: [...g.reasons],
      // One line per group, built from the groups in their order.
      sentence: summary.lines[i] ?? '',
    })),
    edges,
    warnings: result.warnings.map((w) => `${w.where}: ${w.message}`),
  };
}
