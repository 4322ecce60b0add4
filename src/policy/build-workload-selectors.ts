import { type ObservedEndpoint, workloadKeyOf } from './observed-traffic';

/**
 * How a draft selects the pods of a workload: by stable labels, chosen by one documented rule
 * (docs/network-policy.md, "Choosing labels").
 *
 * 1. Candidates are the labels every observed pod of the workload carries, except labels that
 *    change per pod or per rollout (`pod-template-hash`, `controller-revision-hash`,
 *    `pod-template-generation`, `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`,
 *    job and controller uids), version labels (`version`, `app.kubernetes.io/version`, chart labels),
 *    labels Cilium derives (`io.kubernetes.pod.namespace`, which the policy states apart, and every
 *    `io.cilium.*` label, which Kubernetes NetworkPolicy could not select), labels from another
 *    source than Kubernetes (`reserved:...`) and values a selector cannot hold.
 * 2. They are tried in this order: `app.kubernetes.io/name`, `app`, `k8s-app`, `name`,
 *    `app.kubernetes.io/instance`, `app.kubernetes.io/component`, `component`, `tier`, `role`, then
 *    the rest by key.
 * 3. The first candidate is always taken; each next one is added only if it excludes an observed
 *    pod of another workload in the same namespace that the labels so far still select; it stops
 *    when none is left. Pods of other workloads that every candidate still selects are reported in
 *    `alsoSelects`.
 * 4. A workload without candidates cannot be selected: the draft writes no policy for it, and
 *    other policies select it through its whole namespace.
 */
export interface WorkloadSelector {
  /** `namespace/workload`. */
  readonly workload: string;
  readonly namespace: string;
  /** Kubernetes labels (no source prefix), sorted by key. */
  readonly matchLabels: Readonly<Record<string, string>>;
  /** Other observed workloads of the namespace whose pods these labels select too. */
  readonly alsoSelects: readonly string[];
}

const UNSTABLE_KEYS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'job-name',
  'batch.kubernetes.io/job-name',
  'batch.kubernetes.io/job-completion-index',
  'version',
  'app.kubernetes.io/version',
  'helm.sh/chart',
  'chart',
]);

const PREFERRED_KEYS = [
  'app.kubernetes.io/name',
  'app',
  'k8s-app',
  'name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'component',
  'tier',
  'role',
];

// Kubernetes label syntax: an optional DNS-subdomain prefix and a name; values up to 63 characters.
const KEY = /^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Whether a stored label (`key=value`) may be part of a workload selector (rule 1). */
export function isStableWorkloadLabel(key: string, value: string): boolean {
  if (key.includes(':') || UNSTABLE_KEYS.has(key)) return false;
  if (key === 'io.kubernetes.pod.namespace' || key.startsWith('io.cilium.')) return false;
  return KEY.test(key) && VALUE.test(value) && value.length <= 63;
}

function labelsOf(pod: ObservedEndpoint): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of pod.labels) {
    const eq = l.indexOf('=');
    if (eq < 0) out.set(l, '');
    else out.set(l.slice(0, eq), l.slice(eq + 1));
  }
  return out;
}

function preference(key: string): [number, string] {
  const i = PREFERRED_KEYS.indexOf(key);
  return [i < 0 ? PREFERRED_KEYS.length : i, key];
}

function byPreference(a: string, b: string): number {
  const [pa, ka] = preference(a);
  const [pb, kb] = preference(b);
  return pa - pb || (ka < kb ? -1 : ka > kb ? 1 : 0);
}

/**
 * Selectors for every workload of the given pods (other endpoints are ignored), keyed by
 * `namespace/workload`; null for a workload without stable labels. Pass every observed pod, not
 * only those in scope: a selector is judged against all pods of its namespace.
 */
export function buildWorkloadSelectors(endpoints: Iterable<ObservedEndpoint>): Map<string, WorkloadSelector | null> {
  const pods = new Map<string, ObservedEndpoint>();
  for (const e of endpoints) if (e.kind === 'pod' && e.namespace !== null) pods.set(e.id, e);
  const byNamespace = new Map<string, Map<string, Array<Map<string, string>>>>();
  for (const pod of [...pods.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const ns = pod.namespace as string;
    let workloads = byNamespace.get(ns);
    if (workloads === undefined) byNamespace.set(ns, (workloads = new Map()));
    const key = workloadKeyOf(pod);
    const list = workloads.get(key) ?? [];
    list.push(labelsOf(pod));
    workloads.set(key, list);
  }
  const out = new Map<string, WorkloadSelector | null>();
  for (const [namespace, workloads] of byNamespace) {
    for (const [workload, podLabels] of workloads) {
      // Every workload in the map got its list with its first pod.
      const own = podLabels[0] ?? new Map<string, string>();
      const candidates = [...own]
        .filter(([k, v]) => isStableWorkloadLabel(k, v) && podLabels.every((l) => l.get(k) === v))
        .map(([k]) => k)
        .sort(byPreference);
      if (candidates.length === 0) {
        out.set(workload, null);
        continue;
      }
      let others: Array<[string, Map<string, string>]> = [];
      for (const [w, list] of workloads) if (w !== workload) for (const l of list) others.push([w, l]);
      const chosen: string[] = [];
      for (const key of candidates) {
        const value = own.get(key);
        const remaining = others.filter(([, l]) => l.get(key) === value);
        if (chosen.length > 0 && remaining.length === others.length) continue;
        chosen.push(key);
        others = remaining;
        if (others.length === 0) break;
      }
      const matchLabels: Record<string, string> = {};
      for (const key of [...chosen].sort()) matchLabels[key] = own.get(key) ?? '';
      out.set(workload, { workload, namespace, matchLabels, alsoSelects: [...new Set(others.map(([w]) => w))].sort() });
    }
  }
  return out;
}
