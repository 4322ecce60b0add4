import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  type EdgeDecision,
  type ObservedEdge,
  buildPolicyCheck,
  parsePolicyDocuments,
  toImpactSummary,
  toRuleName,
} from '../../../src/policy';
import { T0, edge, fqdn, http, ip, pod, reserved } from './observed-traffic-builders';
import { toSchemaErrors } from './policy-schemas';

/*
 * The impact check on hand-written policies. Every expected verdict is worked out by hand in the
 * comments from Cilium's semantics (docs/network-policy.md): a pod-to-pod edge passes only if the
 * client's egress AND the server's ingress allow it; a direction is enforced once a policy with
 * rules for it selects the pod; allow rules are a union; deny rules win.
 */

const frontend = pod('shop', 'frontend-1', 'frontend', { app: 'frontend', 'io.cilium.k8s.namespace.labels.team': 'web' });
const checkout = pod('shop', 'checkout-1', 'checkout', { app: 'checkout', tier: 'backend', 'io.cilium.k8s.namespace.labels.team': 'web' });
const cart = pod('shop', 'cart-1', 'cart', { app: 'cart', tier: 'backend', 'io.cilium.k8s.namespace.labels.team': 'web' });
const payments = pod('payments', 'payments-1', 'payments', {
  app: 'payments',
  tier: 'backend',
  'io.cilium.k8s.namespace.labels.team': 'money',
});
const coredns = pod('kube-system', 'coredns-1', 'coredns', { 'k8s-app': 'kube-dns' });

const HOUR = 3_600_000;
const E = {
  frontendToCheckout: edge(frontend, checkout, 8080, 'TCP', {
    flows: 500,
    connections: 50,
    http: http([
      ['GET', '/api/cart/*', 100],
      ['POST', '/api/checkout', 40],
    ]),
    requests: 140,
  }),
  checkoutToPayments: edge(checkout, payments, 8443, 'TCP', {
    connections: 300,
    http: http([
      ['POST', '/v1/charges', 1240],
      ['GET', '/v1/charges/*', 60],
    ]),
    requests: 1300,
    lastSeenMs: T0 + 2 * HOUR,
  }),
  cartToPayments: edge(cart, payments, 8443, 'TCP', { flows: 5000, connections: 1240, lastSeenMs: T0 + 3 * HOUR }),
  checkoutDns: edge(checkout, coredns, 53, 'UDP', { dnsQueries: ['api.stripe.com', 'payments.payments.svc.cluster.local'], requests: 30 }),
  checkoutToStripe: edge(checkout, fqdn('api.stripe.com'), 443, 'TCP'),
  checkoutToEvil: edge(checkout, fqdn('evil.example.com'), 443, 'TCP'),
  worldToFrontend: edge(reserved('world'), frontend, 8080, 'TCP'),
  hostProbe: edge(reserved('host'), checkout, 8081, 'TCP'),
  cartToDbInRange: edge(cart, ip('203.0.113.10'), 5432, 'TCP'),
  cartToDbExcepted: edge(cart, ip('203.0.113.200'), 5432, 'TCP'),
  cartToOtherDb: edge(cart, ip('198.51.100.7'), 5432, 'TCP'),
  frontendToApiserver: edge(frontend, reserved('kube-apiserver'), 443, 'TCP'),
  frontendPingsCheckout: edge(frontend, checkout, 0, 'ICMPv4'),
  frontendToCart9000: edge(frontend, cart, 9000, 'TCP'),
  frontendToCart9100: edge(frontend, cart, 9100, 'TCP'),
  remoteNodeToPayments: edge(reserved('remote-node'), payments, 9443, 'TCP'),
};
const ALL: ObservedEdge[] = Object.values(E);

/** Parses policies and checks that each document is a valid object of its kind, so the tests use real policies. */
function policies(yaml: string) {
  for (const doc of parseAllDocuments(yaml)) {
    const manifest = 'toJS' in doc ? (doc.toJS() as Record<string, unknown> | null) : null;
    if (manifest !== null) expect(toSchemaErrors(manifest)).toEqual([]);
  }
  return parsePolicyDocuments(yaml, { source: 'test.yaml' });
}

function verdicts(yaml: string, edges: readonly ObservedEdge[] = ALL, allowLocalHost = true): Record<string, string> {
  const result = buildPolicyCheck(policies(yaml), edges, { allowLocalHost });
  const byKey = new Map(result.decisions.map((d) => [d.key, d.verdict]));
  const out: Record<string, string> = {};
  for (const [name, e] of Object.entries(E)) {
    const key = `${e.source.id}|${e.destination.id}|${e.port}|${e.protocol}|${e.verdict}`;
    if (byKey.has(key)) out[name] = byKey.get(key) as string;
  }
  return out;
}

function decide(yaml: string, e: ObservedEdge, allowLocalHost = true): EdgeDecision {
  return buildPolicyCheck(policies(yaml), [e], { allowLocalHost }).decisions[0]!;
}

const ALLOWED = Object.fromEntries(Object.keys(E).map((k) => [k, 'allowed']));

describe('buildPolicyCheck', () => {
  it('allows everything when no policy selects either end', () => {
    expect(verdicts('')).toEqual(ALLOWED);
    const d = decide('', E.worldToFrontend);
    expect([d.egress.outcome, d.ingress.outcome]).toEqual(['not-a-pod', 'not-enforced']);
  });

  it('enforces ingress on the pods a policy selects, and only in the direction it has rules for', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: checkout-ingress, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: checkout}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
`;
    expect(verdicts(yaml)).toEqual({
      ...ALLOWED,
      // Ping from the frontend: the only rule lists ports, and a rule with toPorts allows no ICMP.
      frontendPingsCheckout: 'denied',
      // checkout's egress is not touched: the policy has no egress rules, so checkout->payments passes.
    });
    // The kubelet probe from the local host passes by allow-localhost; without it, default deny drops it.
    expect(decide(yaml, E.hostProbe).ingress.outcome).toBe('allow-localhost');
    expect(decide(yaml, E.hostProbe, false).verdict).toBe('denied');
    const d = decide(yaml, E.frontendToCheckout);
    expect(d.ingress.allowedBy.map(toRuleName)).toEqual([
      'CiliumNetworkPolicy shop/checkout-ingress spec.ingress[0] (test.yaml document 1)',
    ]);
    expect(d.egress.outcome).toBe('not-enforced');
  });

  it('needs both the client egress and the server ingress for pod-to-pod traffic', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: checkout-ingress, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: checkout}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: frontend-egress, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: frontend}}
  egress:
  - toEndpoints: [{matchLabels: {app: cart}}]
    toPorts: [{ports: [{port: "9000", endPort: 9050}]}]
`;
    expect(verdicts(yaml)).toEqual({
      ...ALLOWED,
      // checkout's ingress allows the frontend on 8080, but the frontend's egress (now default deny)
      // only allows cart on 9000-9050: denied on the client side.
      frontendToCheckout: 'denied',
      // Denied on both sides (the ingress rule has ports only, and the egress has no rule for checkout).
      frontendPingsCheckout: 'denied',
      // 9000 is in the range 9000-9050 (protocol omitted = any), and cart has no ingress policy.
      frontendToCart9000: 'allowed',
      // 9100 is past endPort.
      frontendToCart9100: 'denied',
      // The API server is not cart.
      frontendToApiserver: 'denied',
    });
    const d = decide(yaml, E.frontendToCheckout);
    expect([d.egress.outcome, d.ingress.outcome]).toEqual(['denied', 'allowed']);
    expect(d.egress.reason).toBe(
      'egress of shop/frontend-1: no rule allows it; default deny from CiliumNetworkPolicy shop/frontend-egress',
    );
  });

  it('lets a deny rule win over every allow rule, and counts reserved identities in the cluster entity', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payments, namespace: payments}
spec:
  endpointSelector: {matchLabels: {app: payments}}
  ingress:
  - fromEntities: [cluster]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": shop, app: cart}}]
    toPorts: [{ports: [{port: "8443", protocol: TCP}]}]
`;
    expect(verdicts(yaml)).toEqual({
      ...ALLOWED,
      // cart matches the deny rule (namespace shop named explicitly, app=cart, 8443/TCP), although
      // "cluster" allows every pod.
      cartToPayments: 'denied',
      // remote-node is inside the cluster entity.
    });
    const d = decide(yaml, E.cartToPayments);
    expect(d.ingress.deniedBy.map((r) => r.path)).toEqual(['spec.ingressDeny[0]']);
    expect(d.ingress.allowedBy.map((r) => r.path)).toEqual(['spec.ingress[0]']);
  });

  it('evaluates matchExpressions with In, NotIn, Exists and DoesNotExist', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payments, namespace: payments}
spec:
  endpointSelector: {matchLabels: {app: payments}}
  ingress:
  - fromEndpoints:
    - matchExpressions:
      - {key: "k8s:io.kubernetes.pod.namespace", operator: In, values: [shop]}
      - {key: tier, operator: In, values: [backend]}
      - {key: app, operator: NotIn, values: [cart]}
      - {key: canary, operator: DoesNotExist}
  - fromEndpoints: [{matchExpressions: [{key: app, operator: Exists}]}]
    toPorts: [{ports: [{port: "9443"}]}]
`;
    expect(verdicts(yaml)).toEqual({
      ...ALLOWED,
      // checkout: namespace shop, tier backend, app not cart, no canary label -> rule 0 allows it.
      // cart: app=cart fails NotIn -> no rule allows it.
      cartToPayments: 'denied',
      // remote-node has no app label (Exists fails), and rule 1 is scoped to payments' namespace anyway.
      remoteNodeToPayments: 'denied',
    });
  });

  it('limits an endpoint selector without namespace to the policy namespace, and selects namespaces by their labels', () => {
    const policy = (selector: string) => `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payments, namespace: payments}
spec:
  endpointSelector: {matchLabels: {app: payments}}
  ingress: [{fromEndpoints: [${selector}]}]
`;
    const only = [E.checkoutToPayments];
    // No namespace: Cilium adds payments' own, and checkout lives in shop.
    expect(verdicts(policy('{matchLabels: {app: checkout}}'), only)).toEqual({ checkoutToPayments: 'denied' });
    // The namespace named.
    expect(verdicts(policy('{matchLabels: {app: checkout, "k8s:io.kubernetes.pod.namespace": shop}}'), only)).toEqual({
      checkoutToPayments: 'allowed',
    });
    // Namespaces by label: shop carries team=web.
    expect(verdicts(policy('{matchLabels: {app: checkout, "k8s:io.cilium.k8s.namespace.labels.team": web}}'), only)).toEqual({
      checkoutToPayments: 'allowed',
    });
    expect(verdicts(policy('{matchLabels: {"k8s:io.cilium.k8s.namespace.labels.team": money}}'), only)).toEqual({
      checkoutToPayments: 'denied',
    });
  });

  it('allows DNS names by toFQDNs only when a DNS rule sees their lookups, and refuses lookups the DNS rules do not list', () => {
    const yaml = (dnsRules: string) => `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: checkout-egress, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: checkout}}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [${dnsRules}]}}]
  - toFQDNs: [{matchPattern: "*.stripe.com"}, {matchName: evil.example.com}]
    toPorts: [{ports: [{port: "443"}]}]
`;
    const full = yaml('{matchPattern: "*.stripe.com"}, {matchName: payments.payments.svc.cluster.local}');
    expect(verdicts(full)).toEqual({
      ...ALLOWED,
      // api.stripe.com matches *.stripe.com in toFQDNs, and the DNS rule sees its lookup.
      checkoutToStripe: 'allowed',
      // evil.example.com is named in toFQDNs, but no DNS rule lets the proxy see its lookup, so
      // Cilium never learns its addresses.
      checkoutToEvil: 'denied',
      // Both looked-up names match a DNS rule.
      checkoutDns: 'allowed',
      // checkout's egress is now default deny and allows no pod on 8443.
      checkoutToPayments: 'denied',
    });
    const stripe = decide(full, E.checkoutToStripe);
    expect(stripe.egress.allowedBy.map((r) => r.path)).toEqual(['spec.egress[1]']);
    expect(stripe.egress.requires.map((r) => r.path)).toEqual(['spec.egress[0]']);
    expect(decide(full, E.checkoutToEvil).egress.reason).toContain(
      'names evil.example.com in toFQDNs, but no DNS rule of this endpoint sees its lookup',
    );
    // A DNS rule for stripe only: the lookup of payments' service name is refused (partial).
    const partial = decide(yaml('{matchPattern: "*.stripe.com"}'), E.checkoutDns);
    expect([partial.verdict, partial.deniedDnsNames]).toEqual(['partial', ['payments.payments.svc.cluster.local']]);
  });

  it('matches multi-label wildcards (**.) but single-label ones (*.) only one label deep', () => {
    const deep = edge(checkout, fqdn('a.b.example.com'), 443, 'TCP');
    const yaml = (pattern: string) => `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: checkout}}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system}}]
    toPorts: [{ports: [{port: "53", protocol: UDP}], rules: {dns: [{matchPattern: "*"}]}}]
  - toFQDNs: [{matchPattern: "${pattern}"}]
`;
    expect(decide(yaml('**.example.com'), deep).verdict).toBe('allowed');
    expect(decide(yaml('*.example.com'), deep).verdict).toBe('denied');
    expect(decide(yaml('*.b.example.com'), deep).verdict).toBe('allowed');
  });

  it('matches CIDRs and their exceptions against bare addresses, and port 0 as every port', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: cart-egress, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: cart}}
  egress:
  - toCIDRSet: [{cidr: 203.0.113.0/24, except: [203.0.113.128/25]}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  - toCIDR: [198.51.100.0/24]
    toPorts: [{ports: [{port: "0", protocol: UDP}]}]
`;
    expect(verdicts(yaml)).toEqual({
      ...ALLOWED,
      // .10 is inside 203.0.113.0/24 and outside the excepted upper half.
      cartToDbInRange: 'allowed',
      // .200 is in the excepted 203.0.113.128/25.
      cartToDbExcepted: 'denied',
      // 198.51.100.0/24 is allowed on every UDP port, and this is TCP.
      cartToOtherDb: 'denied',
      // cart's egress is default deny now.
      cartToPayments: 'denied',
    });
  });

  it('refuses the HTTP requests whose method or path the L7 rules do not allow (partial), counting them', () => {
    const yaml = (getPath: string) => `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payments, namespace: payments}
spec:
  endpointSelector: {matchLabels: {app: payments}}
  ingress:
  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": shop, app: checkout}}]
    toPorts: [{ports: [{port: "8443", protocol: TCP}], rules: {http: [{method: POST, path: /v1/charges}, {method: "GET|HEAD", path: "${getPath}"}]}}]
`;
    // /v1/charges/* stands for ids of any shape (numbers, UUIDs, hashes); [0-9]+ accepts numbers
    // only, so the 60 GET requests count as refused; the 1,240 POSTs pass.
    const numeric = decide(yaml('/v1/charges/[0-9]+'), E.checkoutToPayments);
    expect([numeric.verdict, numeric.deniedHttp, numeric.denied]).toEqual([
      'partial',
      [{ method: 'GET', pattern: '/v1/charges/*', count: 60 }],
      { flows: 0, connections: 0, requests: 60 },
    ]);
    // The regex the drafts write for the pattern, or any segment, allows all of them.
    expect(decide(yaml('/v1/charges/[^/]+'), E.checkoutToPayments).verdict).toBe('allowed');
    expect(decide(yaml('/v1/.*'), E.checkoutToPayments).verdict).toBe('allowed');
    // cart is not the peer of any rule: denied outright.
    expect(decide(yaml('/v1/.*'), E.cartToPayments).verdict).toBe('denied');
    // An edge without HTTP details cannot be checked at L7: allowed, with the assumption said.
    const noDetails = decide(yaml('/v1/.*'), { ...E.checkoutToPayments, http: null });
    expect([noDetails.verdict, noDetails.assumptions]).toEqual([
      'allowed',
      ['no HTTP request details observed on the edge: HTTP rules assumed to allow it'],
    ]);
  });

  it('applies ICMP rules to ICMP edges and port rules to the others', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: checkout, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: checkout}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    icmps: [{fields: [{type: EchoRequest, family: IPv4}]}]
`;
    // The ping matches the echo-request ICMP rule; 8080 from the same peer matches no rule.
    expect(verdicts(yaml, [E.frontendPingsCheckout, E.frontendToCheckout])).toEqual({
      frontendPingsCheckout: 'allowed',
      frontendToCheckout: 'denied',
    });
  });

  it('does not enforce a direction whose enableDefaultDeny is false: its rules only add', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: additive, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: checkout}}
  enableDefaultDeny: {ingress: false}
  ingress: [{fromEndpoints: [{matchLabels: {app: nobody}}]}]
`;
    expect(verdicts(yaml)).toEqual(ALLOWED);
  });

  it('applies a clusterwide policy to pods of every namespace', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: dns-only}
spec:
  endpointSelector: {}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: UDP}]}]
`;
    const out = verdicts(yaml);
    // Every pod's egress is default deny and allows DNS only; ingress is untouched.
    expect(out.checkoutDns).toBe('allowed');
    expect(out.worldToFrontend).toBe('allowed');
    expect(out.hostProbe).toBe('allowed');
    expect(out.remoteNodeToPayments).toBe('allowed');
    for (const name of [
      'frontendToCheckout',
      'checkoutToPayments',
      'cartToPayments',
      'checkoutToStripe',
      'cartToDbInRange',
      'frontendToApiserver',
      'frontendToCart9000',
    ]) {
      expect([name, out[name]]).toEqual([name, 'denied']);
    }
  });

  it('evaluates Kubernetes NetworkPolicy: pod and namespace selectors together, ipBlock, default TCP, pods-only peers', () => {
    const yaml = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: payments, namespace: payments}
spec:
  podSelector: {matchLabels: {app: payments}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
      podSelector: {matchLabels: {tier: backend}}
    ports: [{port: 8443}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cart, namespace: shop}
spec:
  podSelector: {matchLabels: {app: cart}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.128/25]}}]
    ports: [{protocol: TCP, port: 5432}]
`;
    expect(verdicts(yaml)).toEqual({
      ...ALLOWED,
      // checkout and cart are tier=backend pods in shop; 8443 is TCP by default.
      checkoutToPayments: 'allowed',
      // cart's egress (policyTypes Egress) only allows 203.0.113.0/24 minus its upper half on 5432.
      cartToPayments: 'denied',
      cartToDbExcepted: 'denied',
      cartToOtherDb: 'denied',
      // A NetworkPolicy peer with selectors selects pods only: remote-node is not one.
      remoteNodeToPayments: 'denied',
    });
  });

  it('reads a Kubernetes rule without peers or ports as allowing everything', () => {
    const yaml = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec: {podSelector: {matchLabels: {app: frontend}}, ingress: [{}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: closed, namespace: shop}
spec: {podSelector: {matchLabels: {app: checkout}}}
`;
    // frontend: ingress [{}] allows every peer on every port. checkout: Ingress with no rules denies
    // all but the local host (allow-localhost).
    expect(verdicts(yaml)).toEqual({ ...ALLOWED, frontendToCheckout: 'denied', frontendPingsCheckout: 'denied' });
  });

  it('only checks edges of the chosen verdicts and counts the others as skipped', () => {
    const dropped = { ...E.cartToPayments, verdict: 'DROPPED' };
    const result = buildPolicyCheck(policies(''), [E.cartToPayments, dropped]);
    expect([result.decisions.length, result.skipped]).toEqual([1, 1]);
  });
});

describe('toImpactSummary', () => {
  it('says how many calls between which workloads the policies would have dropped or refused, most first', () => {
    const yaml = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payments, namespace: payments}
spec:
  endpointSelector: {matchLabels: {app: payments}}
  ingress:
  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": shop, app: checkout}}]
    toPorts: [{ports: [{port: "8443", protocol: TCP}], rules: {http: [{method: POST, path: /v1/charges}]}}]
`;
    const cart2 = pod('shop', 'cart-2', 'cart', { app: 'cart', tier: 'backend' });
    const edges = [...ALL, edge(cart2, payments, 8443, 'TCP', { flows: 100, connections: 60, lastSeenMs: T0 + 5 * HOUR })];
    const summary = toImpactSummary(buildPolicyCheck(policies(yaml), edges));
    // Denied: both cart pods to payments:8443 (1,240 + 60 connections, one group); remote-node to
    // 9443 (2 connections); 3 denied edges. Partial: checkout's 60 GET requests (only POST
    // /v1/charges is allowed). The other 13 of the 17 edges pass.
    expect([summary.checked, summary.allowed, summary.denied, summary.partial]).toEqual([17, 17 - 3 - 1, 3, 1]);
    expect(summary.lines).toEqual([
      'applying this would have dropped 1,300 connections from shop/cart to payments/payments:8443/TCP (last seen 2026-11-20T05:00:00.000Z)',
      'applying this would have refused 60 requests from shop/checkout to payments/payments:8443/TCP: GET /v1/charges/* (last seen 2026-11-20T02:00:00.000Z)',
      'applying this would have dropped 2 connections from reserved:remote-node to payments/payments:9443/TCP (last seen 2026-11-20T01:00:00.000Z)',
    ]);
    expect(summary.groups[0]).toMatchObject({ edges: 2, flows: 5100, connections: 1300, verdict: 'denied' });
  });
});

describe("the project's own deploy/network-policy.yaml", () => {
  const yaml = readFileSync(join(__dirname, '../../../deploy/network-policy.yaml'), 'utf8');
  const ns = 'hubble-graph';
  const collector = pod(ns, 'collector-7d9f-abcde', 'collector', {
    'app.kubernetes.io/name': 'collector',
    'app.kubernetes.io/component': 'collector',
    'app.kubernetes.io/part-of': 'hubble-graph',
  });
  const api = pod(ns, 'api-5c8b-fghij', 'api', {
    'app.kubernetes.io/name': 'api',
    'app.kubernetes.io/component': 'api',
    'app.kubernetes.io/part-of': 'hubble-graph',
  });
  const neo4j = pod(
    ns,
    'neo4j-0',
    'neo4j',
    { 'app.kubernetes.io/name': 'neo4j', 'app.kubernetes.io/part-of': 'hubble-graph' },
    'StatefulSet',
  );
  const relay = pod('kube-system', 'hubble-relay-6f7-klmno', 'hubble-relay', { 'k8s-app': 'hubble-relay' });
  const prometheus = pod('cilium-monitoring', 'prometheus-0', 'prometheus', { app: 'prometheus' }, 'StatefulSet');
  const cases: Array<[string, ObservedEdge, string]> = [
    // The collector's egress names the relay on its container port; the relay has no policy here.
    ['collector -> hubble-relay:4245', edge(collector, relay, 4245, 'TCP'), 'allowed'],
    // collector egress allows neo4j:7687 and neo4j's ingress allows component=collector.
    ['collector -> neo4j:7687', edge(collector, neo4j, 7687, 'TCP'), 'allowed'],
    ['api -> neo4j:7687', edge(api, neo4j, 7687, 'TCP'), 'allowed'],
    ['api -> kube-dns:53/UDP', edge(api, coredns, 53, 'UDP', { dnsQueries: ['neo4j.hubble-graph.svc.cluster.local'] }), 'allowed'],
    ['prometheus -> collector:9465', edge(prometheus, collector, 9465, 'TCP'), 'allowed'],
    // Another pod of the cluster reaching the API: the cluster entity.
    ['frontend -> api:4000', edge(frontend, api, 4000, 'TCP'), 'allowed'],
    // The api's egress allows neo4j and DNS only.
    ['api -> hubble-relay:4245', edge(api, relay, 4245, 'TCP'), 'denied'],
    // world is not in the cluster entity.
    ['world -> api:4000', edge(reserved('world'), api, 4000, 'TCP'), 'denied'],
    // neo4j only resolves names.
    ['neo4j -> api.stripe.com:443', edge(neo4j, fqdn('api.stripe.com'), 443, 'TCP'), 'denied'],
  ];

  it.each(cases)('decides %s: %s', (_name, e, verdict) => {
    expect(decide(yaml, e, false).verdict).toBe(verdict);
  });

  it('lets the kubelet probe neo4j by the host entity even without allow-localhost', () => {
    const d = decide(yaml, edge(reserved('host'), neo4j, 7474, 'TCP'), false);
    expect([d.verdict, d.ingress.allowedBy.map((r) => `${r.policy.name} ${r.path}`)]).toEqual(['allowed', ['neo4j spec.ingress[1]']]);
  });
});
