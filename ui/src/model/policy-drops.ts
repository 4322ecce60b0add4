import type { ApiEndpoint, KeyCount, MapLevel } from './api-types';
import { mapEdgeId, toMapNode } from './apply-live-event';

/**
 * Hubble drop reasons (`drop_reason_desc`) that mean a network policy refused the traffic:
 * POLICY_DENIED (133, no allow rule), POLICY_DENY (181, a deny rule) and AUTH_REQUIRED (189, a
 * rule asks for mutual authentication that did not happen).
 */
export const POLICY_DROP_REASONS: readonly string[] = ['POLICY_DENIED', 'POLICY_DENY', 'AUTH_REQUIRED'];

/** True when any of a call's drop reasons is a policy's. */
export function isPolicyDrop(reasons: readonly KeyCount[]): boolean {
  return reasons.some((r) => r.count > 0 && POLICY_DROP_REASONS.includes(r.key));
}

/** A `Drop` of the API as the page selects it. */
export interface ApiDrop {
  call: { source: ApiEndpoint; destination: ApiEndpoint };
  reasons: KeyCount[];
}

/** Map edge ids (at `level`) that carry traffic a policy dropped. */
export function policyDroppedEdgeIds(drops: readonly ApiDrop[], level: MapLevel): Set<string> {
  const ids = new Set<string>();
  for (const d of drops) {
    if (isPolicyDrop(d.reasons)) ids.add(mapEdgeId(toMapNode(d.call.source, level).id, toMapNode(d.call.destination, level).id));
  }
  return ids;
}

/** `PolicyScope` of the API: one workload, or a namespace. */
export interface PolicyScope {
  namespace: string;
  workload?: string;
}

/**
 * The scope of the policy draft for a selected map node: its workload (WORKLOAD level, or a pod
 * with a workload at POD level), its namespace (NAMESPACE level), none for endpoints outside the
 * cluster's pods (the API drafts policies for workloads only).
 */
export function toPolicyScope(
  node: { id: string; kind: string; name: string; namespace: string | null },
  level: MapLevel,
  podWorkload: string | null,
): PolicyScope | null {
  if (node.kind !== 'POD' || node.namespace === null) return null;
  if (level === 'NAMESPACE') return { namespace: node.namespace };
  if (level === 'WORKLOAD') return { namespace: node.namespace, workload: node.name };
  return podWorkload ? { namespace: node.namespace, workload: podWorkload } : null;
}
