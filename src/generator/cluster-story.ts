/**
 * The plausible cluster of the generator's `cluster` scenario (and so of the `npm start` demo), and
 * how its traffic changes over time. Pure data and pure functions of flow time, so that a demo
 * started again later continues the same story (same pod names at the same times).
 */

/** What a workload's pods answer on their port. */
export type ServerProtocol = 'http' | 'tcp' | 'dns';

export interface ClusterWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  /** Pods (a DaemonSet has one per node whatever this says). */
  readonly replicas: number;
  /** The port it serves on (a worker without server still has its metrics port). */
  readonly port: number;
  readonly serves: ServerProtocol;
  readonly httpProtocol?: 'HTTP/1.1' | 'HTTP/2';
  /** Its pods' identity labels as Cilium reports them (without the `k8s:` prefix and without Cilium's own namespace, service-account and cluster labels). */
  readonly labels: readonly string[];
  /** Typical server latency, in ms. */
  readonly latencyMs: number;
  /** HTTP paths it serves, each with the methods its clients send (`GET,POST /cart`; a bare path: any, see toRoutes). */
  readonly paths?: readonly string[];
}

export interface ClusterDependency {
  /** `namespace/workload`, or `world` (traffic from the internet). */
  readonly from: string;
  /** `namespace/workload`, or `fqdn:NAME` (egress to a DNS name on 443). */
  readonly to: string;
  /** Share of the cluster's exchanges (relative). */
  readonly weight: number;
  /** Denied by a network policy: every attempt is DROPPED (POLICY_DENIED). */
  readonly dropped?: boolean;
  /** Only while the client runs this version (see DEPLOYED_WORKLOAD). */
  readonly version?: 1 | 2;
}

const app = (name: string, component: string, partOf: string) => [
  `app=${name}`,
  `app.kubernetes.io/name=${name}`,
  `app.kubernetes.io/component=${component}`,
  `app.kubernetes.io/part-of=${partOf}`,
];

/** The cluster's workloads (the recorded captures of the demo add bookinfo and more of kube-system). */
export const CLUSTER_WORKLOADS: readonly ClusterWorkload[] = [
  {
    namespace: 'kube-system',
    name: 'coredns',
    kind: 'Deployment',
    replicas: 2,
    port: 53,
    serves: 'dns',
    labels: ['k8s-app=kube-dns'],
    latencyMs: 0.3,
  },
  {
    namespace: 'ingress-nginx',
    name: 'ingress-nginx-controller',
    kind: 'Deployment',
    replicas: 2,
    port: 443,
    serves: 'tcp',
    labels: app('ingress-nginx', 'controller', 'ingress-nginx'),
    latencyMs: 20,
  },
  {
    namespace: 'shop',
    name: 'web',
    kind: 'Deployment',
    replicas: 3,
    port: 8080,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('web', 'frontend', 'shop'),
    latencyMs: 25,
    paths: ['GET /', 'GET /products', 'GET,POST /cart', 'POST /checkout', 'GET /static/app.js'],
  },
  {
    namespace: 'shop',
    name: 'api',
    kind: 'Deployment',
    replicas: 3,
    port: 8080,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('api', 'backend', 'shop'),
    latencyMs: 12,
    paths: ['GET,GET,POST,DELETE /api/v1/cart', 'GET,POST /api/v1/orders', 'GET /api/v1/products', 'GET /healthz'],
  },
  {
    namespace: 'shop',
    name: 'checkout',
    kind: 'Deployment',
    replicas: 2,
    port: 8080,
    serves: 'http',
    httpProtocol: 'HTTP/2',
    labels: app('checkout', 'backend', 'shop'),
    latencyMs: 30,
    paths: ['POST /checkout.v1.Checkout/PlaceOrder', 'POST /checkout.v1.Checkout/Quote'],
  },
  {
    namespace: 'shop',
    name: 'postgres',
    kind: 'StatefulSet',
    replicas: 2,
    port: 5432,
    serves: 'tcp',
    labels: app('postgres', 'database', 'shop'),
    latencyMs: 3,
  },
  {
    namespace: 'shop',
    name: 'redis',
    kind: 'StatefulSet',
    replicas: 1,
    port: 6379,
    serves: 'tcp',
    labels: app('redis', 'cache', 'shop'),
    latencyMs: 0.5,
  },
  {
    namespace: 'payments',
    name: 'payments-api',
    kind: 'Deployment',
    replicas: 2,
    port: 8080,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('payments-api', 'backend', 'payments'),
    latencyMs: 60,
    paths: ['POST /v1/charges', 'POST /v1/refunds'],
  },
  {
    namespace: 'payments',
    name: 'ledger-db',
    kind: 'StatefulSet',
    replicas: 1,
    port: 5432,
    serves: 'tcp',
    labels: app('ledger-db', 'database', 'payments'),
    latencyMs: 4,
  },
  {
    namespace: 'catalog',
    name: 'catalog-api',
    kind: 'Deployment',
    replicas: 2,
    port: 8080,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('catalog-api', 'backend', 'catalog'),
    latencyMs: 15,
    paths: ['GET /v1/products', 'GET /v1/products/search', 'GET /v1/categories'],
  },
  {
    namespace: 'catalog',
    name: 'search',
    kind: 'StatefulSet',
    replicas: 3,
    port: 9200,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('search', 'search', 'catalog'),
    latencyMs: 8,
    paths: ['GET,POST /products/_search', 'POST /_bulk'],
  },
  {
    namespace: 'catalog',
    name: 'recommend',
    kind: 'Deployment',
    replicas: 2,
    port: 8080,
    serves: 'http',
    httpProtocol: 'HTTP/2',
    labels: app('recommend', 'backend', 'catalog'),
    latencyMs: 18,
    paths: ['POST /recommend.v1.Recommend/ForProduct'],
  },
  {
    namespace: 'orders',
    name: 'orders-api',
    kind: 'Deployment',
    replicas: 2,
    port: 8080,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('orders-api', 'backend', 'orders'),
    latencyMs: 20,
    paths: ['GET,POST /v1/orders', 'GET /v1/orders/status'],
  },
  {
    namespace: 'orders',
    name: 'orders-worker',
    kind: 'Deployment',
    replicas: 2,
    port: 9090,
    serves: 'tcp',
    labels: app('orders-worker', 'worker', 'orders'),
    latencyMs: 5,
  },
  {
    namespace: 'orders',
    name: 'kafka',
    kind: 'StatefulSet',
    replicas: 3,
    port: 9092,
    serves: 'tcp',
    labels: app('kafka', 'queue', 'orders'),
    latencyMs: 2,
  },
  {
    namespace: 'orders',
    name: 'orders-db',
    kind: 'StatefulSet',
    replicas: 1,
    port: 5432,
    serves: 'tcp',
    labels: app('orders-db', 'database', 'orders'),
    latencyMs: 3,
  },
  {
    namespace: 'auth',
    name: 'auth',
    kind: 'Deployment',
    replicas: 2,
    port: 9000,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('auth', 'backend', 'auth'),
    latencyMs: 10,
    paths: ['POST /oauth/token', 'GET /userinfo'],
  },
  {
    namespace: 'auth',
    name: 'auth-redis',
    kind: 'StatefulSet',
    replicas: 1,
    port: 6379,
    serves: 'tcp',
    labels: app('auth-redis', 'cache', 'auth'),
    latencyMs: 0.5,
  },
  {
    namespace: 'monitoring',
    name: 'prometheus',
    kind: 'StatefulSet',
    replicas: 1,
    port: 9090,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('prometheus', 'monitoring', 'monitoring'),
    latencyMs: 40,
    paths: ['GET,POST /api/v1/query'],
  },
  {
    namespace: 'monitoring',
    name: 'node-exporter',
    kind: 'DaemonSet',
    replicas: 0,
    port: 9100,
    serves: 'http',
    httpProtocol: 'HTTP/1.1',
    labels: app('node-exporter', 'exporter', 'monitoring'),
    latencyMs: 6,
    paths: ['GET /metrics'],
  },
];

/** Who calls whom, besides DNS (every pod asks kube-dns for the names it calls) and the kubelet's probes. */
export const CLUSTER_DEPENDENCIES: readonly ClusterDependency[] = [
  { from: 'world', to: 'ingress-nginx/ingress-nginx-controller', weight: 6 },
  { from: 'ingress-nginx/ingress-nginx-controller', to: 'shop/web', weight: 10 },
  { from: 'shop/web', to: 'shop/api', weight: 8 },
  { from: 'shop/web', to: 'auth/auth', weight: 3 },
  { from: 'shop/web', to: 'catalog/catalog-api', weight: 5 },
  { from: 'shop/api', to: 'shop/postgres', weight: 5 },
  { from: 'shop/api', to: 'shop/redis', weight: 6 },
  { from: 'shop/api', to: 'shop/checkout', weight: 3 },
  { from: 'shop/api', to: 'orders/orders-api', weight: 2 },
  { from: 'shop/checkout', to: 'payments/payments-api', weight: 3 },
  { from: 'shop/checkout', to: 'shop/redis', weight: 1 },
  { from: 'payments/payments-api', to: 'payments/ledger-db', weight: 3 },
  { from: 'payments/payments-api', to: 'fqdn:api.stripe.com', weight: 2 },
  { from: 'catalog/catalog-api', to: 'catalog/search', weight: 5 },
  { from: 'catalog/catalog-api', to: 'fqdn:storage.googleapis.com', weight: 2, version: 1 },
  { from: 'catalog/catalog-api', to: 'catalog/recommend', weight: 3, version: 2 },
  { from: 'orders/orders-api', to: 'orders/kafka', weight: 2 },
  { from: 'orders/orders-api', to: 'orders/orders-db', weight: 2 },
  { from: 'orders/orders-worker', to: 'orders/kafka', weight: 3 },
  { from: 'orders/orders-worker', to: 'orders/orders-db', weight: 2 },
  { from: 'orders/orders-worker', to: 'fqdn:hooks.slack.com', weight: 0.5 },
  { from: 'auth/auth', to: 'auth/auth-redis', weight: 2 },
  { from: 'auth/auth', to: 'fqdn:login.microsoftonline.com', weight: 0.5 },
  { from: 'monitoring/prometheus', to: 'monitoring/node-exporter', weight: 1 },
  // The payments namespace admits only shop/checkout (a CiliumNetworkPolicy): the rest is dropped.
  { from: 'shop/web', to: 'payments/payments-api', weight: 0.4, dropped: true },
  { from: 'catalog/catalog-api', to: 'payments/ledger-db', weight: 0.2, dropped: true },
];

/** The service that answers 5xx during the incident; its callers' latency rises then. */
export const INCIDENT_SERVICE = 'catalog/search';
/** The workload whose deploys change its dependencies (version 1: storage.googleapis.com; version 2: catalog/recommend). */
export const DEPLOYED_WORKLOAD = 'catalog/catalog-api';
/** Default length of one story, in ms. */
export const DEFAULT_STORY_PERIOD_MS = 6 * 60_000;
/** Where in each period the incident is (fractions of the period). */
export const INCIDENT_PHASE: readonly [number, number] = [0.55, 0.7];
/** Where in each period DEPLOYED_WORKLOAD is deployed (a fraction of the period). */
export const DEPLOY_PHASE = 0.2;

/** What is going on in the cluster at one moment. */
export interface ClusterMoment {
  /** INCIDENT_SERVICE answers 5xx. */
  readonly incident: boolean;
  /** Version DEPLOYED_WORKLOAD runs. */
  readonly version: 1 | 2;
}

const floorDiv = (a: number, b: number) => Math.floor(a / b);

/**
 * Rollout generation of a Deployment or DaemonSet at `timeMs`: each rolls out once per period, at
 * its own phase (DEPLOYED_WORKLOAD at DEPLOY_PHASE, the others spread over the period so that some
 * rollout happens every minute or so). StatefulSets keep their pod names and are not counted.
 */
export function generationAt(workload: string, timeMs: number, periodMs: number): number {
  return floorDiv(timeMs - rolloutPhase(workload) * periodMs, periodMs);
}

const ROLLING = CLUSTER_WORKLOADS.filter((w) => w.kind !== 'StatefulSet' && `${w.namespace}/${w.name}` !== DEPLOYED_WORKLOAD).map(
  (w) => `${w.namespace}/${w.name}`,
);

/** Phase (fraction of the period) at which a workload rolls out. */
export function rolloutPhase(workload: string): number {
  if (workload === DEPLOYED_WORKLOAD) return DEPLOY_PHASE;
  const i = ROLLING.indexOf(workload);
  return i < 0 ? 0 : (i + 0.5) / ROLLING.length;
}

/** The story at `timeMs` (epoch ms) for stories of `periodMs`. Pure. */
export function clusterStoryAt(timeMs: number, periodMs: number): ClusterMoment {
  const phase = (((timeMs % periodMs) + periodMs) % periodMs) / periodMs;
  const generation = generationAt(DEPLOYED_WORKLOAD, timeMs, periodMs);
  return { incident: phase >= INCIDENT_PHASE[0] && phase < INCIDENT_PHASE[1], version: ((generation % 2) + 2) % 2 === 0 ? 1 : 2 };
}

/** Traffic relative to the day's mean at `timeMs`: x0.5 at 02:00 UTC, x1.5 at 14:00 UTC, a sine between. */
export function dailyRhythm(timeMs: number): number {
  const hours = (((timeMs % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
  return 1 + 0.5 * Math.sin((2 * Math.PI * (hours - 8)) / 24);
}
