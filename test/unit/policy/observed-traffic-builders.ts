import { seededRandom } from '../../../src/generator/seeded-random';
import type { HttpPathCounts, ObservedEdge, ObservedEndpoint, ObservedProtocol } from '../../../src/policy';

/** Builders of observed traffic for the policy tests, and a varied synthetic cluster. */

export const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const HOUR = 3_600_000;

/** A pod with its workload labels plus the labels Cilium adds (namespace, namespace labels, cluster, service account). */
export function pod(
  namespace: string,
  name: string,
  workload: string | null,
  labels: Readonly<Record<string, string>> = {},
  workloadKind: string | null = 'Deployment',
): ObservedEndpoint {
  const all = [
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    `io.kubernetes.pod.namespace=${namespace}`,
    `io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${namespace}`,
    'io.cilium.k8s.policy.cluster=default',
    `io.cilium.k8s.policy.serviceaccount=${workload ?? 'default'}`,
  ].sort();
  return {
    id: `${namespace}/${name}`,
    kind: 'pod',
    namespace,
    labels: all,
    workload,
    workloadKind: workload === null ? null : workloadKind,
    reservedName: null,
  };
}

export function reserved(name: string): ObservedEndpoint {
  return { id: `reserved:${name}`, kind: 'reserved', namespace: null, labels: [], workload: null, workloadKind: null, reservedName: name };
}

export function fqdn(name: string): ObservedEndpoint {
  return { id: `fqdn:${name}`, kind: 'fqdn', namespace: null, labels: [], workload: null, workloadKind: null, reservedName: null };
}

export function ip(address: string): ObservedEndpoint {
  return { id: `ip:${address}`, kind: 'ip', namespace: null, labels: [], workload: null, workloadKind: null, reservedName: null };
}

/** HTTP counts from `[method, pattern, count]` triples. */
export function http(pairs: ReadonlyArray<[string, string, number]>, overflowRequests = 0): HttpPathCounts {
  return { paths: pairs.map(([method, pattern, count]) => ({ method, pattern, count })), overflowRequests };
}

/** An edge with plain defaults (FORWARDED, 10 flows, 2 connections, seen in the first hour after T0). */
export function edge(
  source: ObservedEndpoint,
  destination: ObservedEndpoint,
  port: number,
  protocol: ObservedProtocol,
  extra: Partial<ObservedEdge> = {},
): ObservedEdge {
  const requests = extra.http ? extra.http.paths.reduce((n, p) => n + p.count, extra.http.overflowRequests) : 0;
  return {
    source,
    destination,
    port,
    protocol,
    verdict: 'FORWARDED',
    flows: 10,
    connections: protocol === 'TCP' ? 2 : 0,
    requests,
    firstSeenMs: T0,
    lastSeenMs: T0 + HOUR,
    dnsQueries: [],
    dnsQueriesTruncated: false,
    http: null,
    ...extra,
  };
}

interface WorkloadSpec {
  namespace: string;
  name: string;
  kind: string | null;
  labels: Record<string, string>;
  /** Labels that differ per pod (hashes, pod names, versions). */
  perPod: (i: number) => Record<string, string>;
  pods: number;
}

const WORKLOADS: WorkloadSpec[] = [
  {
    namespace: 'shop',
    name: 'frontend',
    kind: 'Deployment',
    labels: { app: 'frontend', 'app.kubernetes.io/name': 'frontend' },
    perPod: (i) => ({ 'pod-template-hash': i % 2 ? '7c9d6b5f4' : '6d9984c876', version: i % 2 ? 'v2' : 'v1' }),
    pods: 3,
  },
  {
    namespace: 'shop',
    name: 'checkout',
    kind: 'Deployment',
    labels: { app: 'checkout', tier: 'backend' },
    perPod: () => ({ 'pod-template-hash': '5f6c8d7b9' }),
    pods: 2,
  },
  {
    namespace: 'shop',
    name: 'cart',
    kind: 'Deployment',
    labels: { app: 'cart', tier: 'backend' },
    perPod: () => ({ 'pod-template-hash': '84b5c6d7f' }),
    pods: 2,
  },
  // A bare pod without labels: no stable selector.
  { namespace: 'shop', name: 'debug', kind: null, labels: {}, perPod: () => ({}), pods: 1 },
  {
    namespace: 'payments',
    name: 'payments',
    kind: 'Deployment',
    labels: { 'app.kubernetes.io/name': 'payments', 'app.kubernetes.io/instance': 'prod' },
    perPod: () => ({ 'pod-template-hash': '9a8b7c6d5' }),
    pods: 2,
  },
  {
    namespace: 'payments',
    name: 'ledger',
    kind: 'StatefulSet',
    labels: { 'app.kubernetes.io/name': 'ledger', 'app.kubernetes.io/instance': 'prod' },
    perPod: (i) => ({
      'statefulset.kubernetes.io/pod-name': `ledger-${i}`,
      'controller-revision-hash': 'ledger-5d8f7c9b4',
      'apps.kubernetes.io/pod-index': String(i),
    }),
    pods: 2,
  },
  {
    namespace: 'catalog',
    name: 'catalog-api',
    kind: 'Deployment',
    labels: { app: 'catalog', component: 'api' },
    perPod: () => ({}),
    pods: 2,
  },
  {
    namespace: 'catalog',
    name: 'catalog-worker',
    kind: 'Deployment',
    labels: { app: 'catalog', component: 'worker' },
    perPod: () => ({}),
    pods: 1,
  },
  {
    namespace: 'kube-system',
    name: 'coredns',
    kind: 'Deployment',
    labels: { 'k8s-app': 'kube-dns' },
    perPod: () => ({ 'pod-template-hash': '5d78c9869d' }),
    pods: 2,
  },
  {
    namespace: 'monitoring',
    name: 'prometheus',
    kind: 'StatefulSet',
    labels: { app: 'prometheus' },
    perPod: (i) => ({ 'statefulset.kubernetes.io/pod-name': `prometheus-${i}`, 'controller-revision-hash': 'prometheus-66f4b' }),
    pods: 1,
  },
];

export interface SyntheticTraffic {
  readonly edges: ObservedEdge[];
  /** Pods by stable workload (`namespace/workload`). */
  readonly pods: ReadonlyMap<string, ObservedEndpoint[]>;
}

/**
 * A varied cluster: five namespaces, ten workloads (Deployments, StatefulSets, a bare pod), callers
 * across namespaces, reserved identities on both sides (world, host, remote-node, kube-apiserver),
 * DNS with and without recorded names, DNS names and bare addresses (IPv4 and IPv6), HTTP with
 * method+path patterns and an overflow, ICMP, and DROPPED edges. Counts and which pod pairs talk
 * vary with the seed. `bareDebugPod` (default true) adds a pod without labels that no selector can
 * name, whose drafts fall back to its whole namespace.
 */
export function buildSyntheticTraffic(seed = 1, options: { bareDebugPod?: boolean } = {}): SyntheticTraffic {
  const bareDebugPod = options.bareDebugPod ?? true;
  const rng = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const pods = new Map<string, ObservedEndpoint[]>();
  for (const w of WORKLOADS) {
    if (w.kind === null && !bareDebugPod) continue;
    const list: ObservedEndpoint[] = [];
    for (let i = 0; i < w.pods; i++) {
      const name =
        w.kind === 'StatefulSet'
          ? `${w.name}-${i}`
          : w.kind === null
            ? w.name
            : `${w.name}-${(seed * 7919 + i * 104729).toString(36).slice(0, 5)}`;
      list.push(pod(w.namespace, name, w.kind === null ? null : w.name, { ...w.labels, ...w.perPod(i) }, w.kind ?? 'Deployment'));
    }
    pods.set(`${w.namespace}/${w.name}`, list);
  }
  const of = (key: string) => pods.get(key) as ObservedEndpoint[];
  const edges: ObservedEdge[] = [];
  const times = () => {
    const first = T0 + int(0, 20) * HOUR;
    return { firstSeenMs: first, lastSeenMs: first + int(1, 48) * HOUR };
  };
  const counts = (protocol: ObservedProtocol) => {
    const flows = int(1, 5000);
    return { flows, connections: protocol === 'TCP' ? Math.max(1, Math.floor(flows / int(2, 20))) : 0 };
  };
  /** Every client pod calls at least one server pod, some call all. */
  const calls = (
    from: string,
    to: ObservedEndpoint[] | string,
    port: number,
    protocol: ObservedProtocol,
    extra: (i: number) => Partial<ObservedEdge> = () => ({}),
  ) => {
    const servers = typeof to === 'string' ? of(to) : to;
    for (const client of of(from)) {
      const start = int(0, servers.length - 1);
      const n = int(1, servers.length);
      for (let k = 0; k < n; k++) {
        const server = servers[(start + k) % servers.length]!;
        edges.push(edge(client, server, port, protocol, { ...counts(protocol), ...times(), ...extra(edges.length) }));
      }
    }
  };
  const httpOf = (pairs: ReadonlyArray<[string, string]>, overflow = 0) => {
    const h = http(
      pairs.filter((_, i) => i === 0 || rng() < 0.7).map(([m, p]) => [m, p, int(1, 2000)]),
      overflow,
    );
    return { http: h, requests: h.paths.reduce((n, p) => n + p.count, overflow) };
  };
  const dnsOf = (names: string[]) => ({ dnsQueries: names, requests: names.length * int(5, 50) });

  calls('shop/frontend', 'shop/checkout', 8080, 'TCP', () =>
    httpOf([
      ['GET', '/api/cart/*'],
      ['POST', '/api/checkout'],
      ['GET', '/api/orders/*/items'],
    ]),
  );
  calls('shop/frontend', 'shop/cart', 7070, 'TCP');
  calls('shop/frontend', 'catalog/catalog-api', 8080, 'TCP', () =>
    httpOf([
      ['GET', '/products'],
      ['GET', '/products/*'],
      ['GET', '/img/*.png'],
    ]),
  );
  calls('shop/checkout', 'payments/payments', 8443, 'TCP', (i) =>
    httpOf(
      [
        ['POST', '/v1/charges'],
        ['GET', '/v1/charges/*'],
      ],
      i % 3 === 0 ? int(1, 9) : 0,
    ),
  );
  calls('shop/checkout', 'shop/cart', 7070, 'TCP');
  calls('payments/payments', 'payments/ledger', 5432, 'TCP');
  calls('catalog/catalog-api', 'catalog/catalog-worker', 9000, 'TCP');
  if (bareDebugPod) {
    calls('shop/debug', 'shop/checkout', 8080, 'TCP');
    calls('shop/debug', 'payments/payments', 8443, 'TCP', () => ({ verdict: 'DROPPED' }));
  }
  calls('shop/cart', 'payments/ledger', 5432, 'TCP', () => ({ verdict: 'DROPPED' }));
  // DNS: names per caller; catalog-worker's lookups were not recorded (no DNS visibility).
  const dnsNames: Record<string, string[]> = {
    'shop/frontend': ['cart.shop.svc.cluster.local', 'catalog-api.catalog.svc.cluster.local', 'checkout.shop.svc.cluster.local'],
    'shop/checkout': ['api.stripe.com', 'cart.shop.svc.cluster.local', 'payments.payments.svc.cluster.local'],
    'shop/cart': ['db.example.internal'],
    'shop/debug': ['checkout.shop.svc.cluster.local'],
    'payments/payments': ['api.stripe.com', 'hooks.slack.com', 'ledger.payments.svc.cluster.local'],
    'payments/ledger': ['ledger-0.ledger.payments.svc.cluster.local'],
    'catalog/catalog-api': ['catalog-worker.catalog.svc.cluster.local'],
    'catalog/catalog-worker': [],
    'monitoring/prometheus': ['kubernetes.default.svc.cluster.local'],
  };
  for (const [workload, names] of Object.entries(dnsNames)) {
    if (!pods.has(workload)) continue;
    calls(workload, 'kube-system/coredns', 53, 'UDP', () => (names.length > 0 ? dnsOf(names) : {}));
  }
  calls('shop/checkout', 'kube-system/coredns', 53, 'TCP', () => dnsOf(['api.stripe.com']));
  calls('kube-system/coredns', [reserved('world')], 53, 'UDP');
  calls('kube-system/coredns', [reserved('kube-apiserver')], 443, 'TCP');
  // World by name and by address.
  calls('shop/checkout', [fqdn('api.stripe.com')], 443, 'TCP');
  calls('payments/payments', [fqdn('api.stripe.com'), fqdn('hooks.slack.com')], 443, 'TCP');
  calls('shop/cart', [ip('203.0.113.10')], 5432, 'TCP');
  calls('catalog/catalog-worker', [ip('2001:db8::10')], 443, 'TCP');
  calls('catalog/catalog-worker', [reserved('world')], 80, 'TCP');
  calls('shop/checkout', [reserved('kube-apiserver')], 443, 'TCP');
  // Reserved identities calling in.
  const into = (source: ObservedEndpoint, to: string, port: number, protocol: ObservedProtocol) => {
    for (const server of of(to)) edges.push(edge(source, server, port, protocol, { ...counts(protocol), ...times() }));
  };
  into(reserved('world'), 'shop/frontend', 8080, 'TCP');
  into(fqdn('crawler.example.net'), 'shop/frontend', 8080, 'TCP');
  into(reserved('remote-node'), 'shop/frontend', 8080, 'TCP');
  into(reserved('kube-apiserver'), 'payments/payments', 9443, 'TCP');
  for (const key of pods.keys()) into(reserved('host'), key, 8081, 'TCP');
  // Prometheus scrapes every workload outside kube-system and pings the frontend.
  for (const key of pods.keys())
    if (!key.startsWith('kube-system/') && key !== 'monitoring/prometheus') calls('monitoring/prometheus', key, 9100, 'TCP');
  calls('monitoring/prometheus', 'shop/frontend', 0, 'ICMPv4');
  return { edges, pods };
}
