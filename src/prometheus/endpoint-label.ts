import { namespaceAggregateId, podId, reservedId, workloadAggregateId, type EndpointKind } from '../model/endpoint-ids';

/**
 * What the `source`/`destination` label values mean, set in Cilium by the metric's
 * `sourceContext`/`destinationContext` option (https://docs.cilium.io/en/stable/observability/metrics/#context-options):
 * - `pod`: `namespace/pod` (the setting hubble-graph's Helm values use),
 * - `workload`: `namespace/workloadName`,
 * - `namespace`: `namespace`.
 * With Cilium's fallback lists (`pod|reserved-identity`) a value may also be `reserved:world` etc.
 */
export type LabelContext = 'pod' | 'workload' | 'namespace';

export const LABEL_CONTEXTS: readonly LabelContext[] = ['pod', 'workload', 'namespace'];

/**
 * An endpoint read from a label value. Pods and reserved identities are the same nodes as the flow
 * source's. Workload- and namespace-level values name no single pod: they become `:Endpoint` nodes
 * with ids `workload:namespace/name` and `namespace:name`, stored with kind `reserved` (not `pod`, so
 * that pod counts stay true) until the model gains kinds of their own.
 */
export interface LabelEndpoint {
  readonly id: string;
  readonly kind: EndpointKind;
  readonly name: string;
  readonly namespace: string | null;
  readonly workload: string | null;
}

// Kubernetes names: DNS labels and subdomains (lowercase alphanumerics, '-' and '.').
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Parses a `source`/`destination` label value, or returns null when it does not have the shape the
 * context promises (e.g. `nope` where `namespace/pod` is expected). An empty value (Hubble's value
 * when the endpoint has no such context, e.g. world traffic under `pod`) is also null.
 */
export function parseEndpointLabel(value: string, context: LabelContext): LabelEndpoint | null {
  if (value.startsWith('reserved:')) {
    const name = value.slice('reserved:'.length);
    return /^[a-z][a-z0-9-]*$/.test(name) ? { id: reservedId(name), kind: 'reserved', name, namespace: null, workload: null } : null;
  }
  if (context === 'namespace') {
    return NAME.test(value) ? { id: namespaceAggregateId(value), kind: 'reserved', name: value, namespace: value, workload: null } : null;
  }
  const [namespace, name, extra] = value.split('/');
  if (namespace === undefined || name === undefined || extra !== undefined || !NAME.test(namespace) || !NAME.test(name)) return null;
  if (context === 'workload') {
    return { id: workloadAggregateId(namespace, name), kind: 'reserved', name, namespace, workload: name };
  }
  return { id: podId(namespace, name), kind: 'pod', name, namespace, workload: null };
}
