import { parseAllDocuments, stringify } from 'yaml';
import { toWorkloadName } from '../../../src/model/workload-name';
import { generateFlows } from '../../../src/generator/generate-flows';
import {
  type EdgeDecision,
  type ObservedEdge,
  type ObservedEndpoint,
  type PolicyDraft,
  type RuleRef,
  buildPolicyCheck,
  buildPolicyDrafts,
  buildWorkloadSelectors,
  parsePolicyDocuments,
  toPolicyYaml,
  workloadKeyOf,
} from '../../../src/policy';
import { T0, buildSyntheticTraffic, edge, fqdn, pod, reserved } from './observed-traffic-builders';
import { toSchemaErrors } from './policy-schemas';

const UNSTABLE = [
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'version',
];

function spec(draft: PolicyDraft): Record<string, unknown> {
  return draft.manifest.spec as Record<string, unknown>;
}

function selectorOf(draft: PolicyDraft): Record<string, string> {
  const s = spec(draft);
  return ((draft.kind === 'CiliumNetworkPolicy' ? s.endpointSelector : s.podSelector) as { matchLabels: Record<string, string> })
    .matchLabels;
}

function draftFor(drafts: readonly PolicyDraft[], kind: PolicyDraft['kind'], workload: string): PolicyDraft {
  const d = drafts.find((p) => p.kind === kind && p.workload === workload);
  if (d === undefined) throw new Error(`no ${kind} for ${workload}`);
  return d;
}

/** Every label selector (matchLabels) anywhere in a manifest. */
function allMatchLabels(value: unknown, out: Array<Record<string, string>> = []): Array<Record<string, string>> {
  if (Array.isArray(value)) for (const v of value) allMatchLabels(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'matchLabels') out.push(v as Record<string, string>);
      else allMatchLabels(v, out);
    }
  }
  return out;
}

function check(drafts: readonly PolicyDraft[], edges: readonly ObservedEdge[], verdicts = ['FORWARDED']) {
  const set = parsePolicyDocuments(toPolicyYaml(drafts), { source: 'drafts.yaml' });
  return buildPolicyCheck(set, edges, { verdicts, allowLocalHost: false });
}

describe('buildPolicyDrafts', () => {
  const { edges } = buildSyntheticTraffic(1);
  const drafts = buildPolicyDrafts(edges);
  const cilium = drafts.policies.filter((p) => p.kind === 'CiliumNetworkPolicy');
  const kubernetes = drafts.policies.filter((p) => p.kind === 'NetworkPolicy');

  it('drafts one CiliumNetworkPolicy and one NetworkPolicy per selectable workload, with stable names', () => {
    const workloads = [
      'catalog/catalog-api',
      'catalog/catalog-worker',
      'kube-system/coredns',
      'monitoring/prometheus',
      'payments/ledger',
      'payments/payments',
      'shop/cart',
      'shop/checkout',
      'shop/frontend',
    ];
    expect(cilium.map((p) => p.workload)).toEqual(workloads);
    expect(kubernetes.map((p) => p.workload)).toEqual(workloads);
    expect(cilium.map((p) => `${p.namespace}/${p.name}`)).toContain('shop/checkout-hubble-graph');
  });

  it('writes no policy for a pod without stable labels, says so, and lets others allow it through its namespace', () => {
    expect(drafts.policies.some((p) => p.workload === 'shop/debug')).toBe(false);
    expect(drafts.warnings).toContain(
      'shop/debug: no stable labels to select its pods, so no policy is drafted for it (other drafts allow it through its whole namespace)',
    );
    // checkout is called by the debug pod: its ingress names the whole shop namespace for it.
    const ingress = spec(draftFor(cilium, 'CiliumNetworkPolicy', 'shop/checkout')).ingress as Array<Record<string, unknown>>;
    expect(ingress).toContainEqual({
      fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'shop' } }],
      toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }],
    });
  });

  it('never selects by pod-template hash, controller-revision hash, StatefulSet pod name, pod index or version', () => {
    for (const p of drafts.policies) {
      for (const labels of allMatchLabels(p.manifest)) {
        for (const key of Object.keys(labels)) expect(UNSTABLE).not.toContain(key.replace(/^k8s:/, ''));
      }
    }
    // The StatefulSet is selected by its name label alone; instance=prod is shared with payments and not needed.
    expect(selectorOf(draftFor(cilium, 'CiliumNetworkPolicy', 'payments/ledger'))).toEqual({ 'app.kubernetes.io/name': 'ledger' });
  });

  it('adds labels to a selector only until it tells the workload apart from the others of its namespace', () => {
    // catalog-api and catalog-worker share app=catalog: component tells them apart.
    expect(selectorOf(draftFor(cilium, 'CiliumNetworkPolicy', 'catalog/catalog-api'))).toEqual({ app: 'catalog', component: 'api' });
    expect(selectorOf(draftFor(kubernetes, 'NetworkPolicy', 'catalog/catalog-worker'))).toEqual({ app: 'catalog', component: 'worker' });
    // frontend carries app and app.kubernetes.io/name: the preferred key alone is unique.
    expect(selectorOf(draftFor(cilium, 'CiliumNetworkPolicy', 'shop/frontend'))).toEqual({ 'app.kubernetes.io/name': 'frontend' });
  });

  it('validates every CiliumNetworkPolicy against the Cilium CRD schema and every NetworkPolicy against the Kubernetes API shape', () => {
    for (const p of drafts.policies)
      expect({ policy: `${p.kind} ${p.namespace}/${p.name}`, errors: toSchemaErrors(p.manifest) }).toEqual({
        policy: `${p.kind} ${p.namespace}/${p.name}`,
        errors: [],
      });
  });

  it('has schema validators that reject a malformed policy (the schema test can fail)', () => {
    const bad = structuredClone(draftFor(cilium, 'CiliumNetworkPolicy', 'shop/cart').manifest) as {
      spec: { ingress: Array<{ toPorts: Array<{ ports: Array<{ port: unknown }> }> }> };
    };
    bad.spec.ingress[0]!.toPorts[0]!.ports[0]!.port = 7070;
    expect(toSchemaErrors(bad)).not.toEqual([]);
    const badK8s = structuredClone(draftFor(kubernetes, 'NetworkPolicy', 'shop/cart').manifest) as {
      spec: { egress: Array<Record<string, unknown>> };
    };
    badK8s.spec.egress[0]!.toFQDNs = [{ matchName: 'api.stripe.com' }];
    expect(toSchemaErrors(badK8s)).not.toEqual([]);
  });

  it('emits valid YAML, one document per policy, each rule with a comment naming the edges, counts and last seen', () => {
    const yaml = toPolicyYaml(drafts.policies);
    const docs = parseAllDocuments(yaml);
    expect(docs).toHaveLength(drafts.policies.length);
    for (const d of docs) expect('errors' in d ? d.errors : ['not a document']).toEqual([]);
    expect(docs.map((d) => ('toJS' in d ? d.toJS() : null))).toEqual(drafts.policies.map((p) => p.manifest));
    expect(yaml).toMatch(
      /# learned from calls from shop\/frontend \(app.kubernetes.io\/name=frontend\)\n\s*# {3}8080\/TCP: \d+ edges?, [\d,]+ flows, [\d,]+ connections, [\d,]+ requests, last seen 2026-11-\d\dT/,
    );
    // Every rule of every policy has its comment.
    for (const p of drafts.policies) {
      const s = spec(p);
      for (const direction of ['ingress', 'egress']) {
        const rules = (s[direction] as unknown[]).length;
        const commented = new Set(p.comments.filter((c) => c.path[1] === direction).map((c) => c.path[2]));
        if (rules > 0) expect(commented.size).toBe(rules);
      }
    }
  });

  it('is deterministic: the same edges in another order give the same YAML', () => {
    const shuffled = [...edges].reverse();
    expect(toPolicyYaml(buildPolicyDrafts(shuffled).policies)).toBe(toPolicyYaml(drafts.policies));
  });

  it('sends DNS through the DNS proxy with the names looked up, and allows DNS names by toFQDNs', () => {
    const egress = spec(draftFor(cilium, 'CiliumNetworkPolicy', 'shop/checkout')).egress as Array<Record<string, unknown>>;
    const dnsNames = [
      { matchName: 'api.stripe.com' },
      { matchName: 'cart.shop.svc.cluster.local' },
      { matchName: 'payments.payments.svc.cluster.local' },
    ];
    expect(egress).toContainEqual({
      toEndpoints: [{ matchLabels: { 'k8s-app': 'kube-dns', 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }],
      toPorts: [
        { ports: [{ port: '53', protocol: 'TCP' }], rules: { dns: dnsNames } },
        { ports: [{ port: '53', protocol: 'UDP' }], rules: { dns: dnsNames } },
      ],
    });
    expect(egress).toContainEqual({ toFQDNs: [{ matchName: 'api.stripe.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
    expect(egress).toContainEqual({ toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
  });

  it('allows every DNS name when the lookups of a workload were not recorded by name', () => {
    const egress = spec(draftFor(cilium, 'CiliumNetworkPolicy', 'catalog/catalog-worker')).egress as Array<{
      toPorts?: Array<{ rules?: unknown }>;
    }>;
    expect(egress.flatMap((r) => r.toPorts ?? []).map((p) => p.rules)).toContainEqual({ dns: [{ matchPattern: '*' }] });
  });

  it('writes HTTP rules on the server side from the observed methods and path patterns', () => {
    const ingress = spec(draftFor(cilium, 'CiliumNetworkPolicy', 'payments/payments')).ingress as Array<Record<string, unknown>>;
    const fromCheckout = ingress.find((r) => JSON.stringify(r).includes('"app":"checkout"')) as {
      toPorts: Array<{ rules: { http: Array<Record<string, string>> } }>;
    };
    // Sorted by pattern, then method. Some checkout->payments edges have requests past the recorded
    // bound: the last rule allows any request.
    expect(fromCheckout.toPorts[0]!.rules.http).toEqual([
      { method: 'POST', path: '/v1/charges' },
      { method: 'GET', path: '/v1/charges/[^/]+' },
      {},
    ]);
  });

  it('allows reserved identities by entity and bare addresses by CIDR', () => {
    const frontend = spec(draftFor(cilium, 'CiliumNetworkPolicy', 'shop/frontend'));
    const entities = (frontend.ingress as Array<{ fromEntities?: string[] }>).flatMap((r) => r.fromEntities ?? []);
    expect(entities).toEqual(['host', 'remote-node', 'world']);
    expect(frontend.ingress).toContainEqual(expect.objectContaining({ icmps: [{ fields: [{ family: 'IPv4', type: 8 }] }] }));
    const worker = spec(draftFor(cilium, 'CiliumNetworkPolicy', 'catalog/catalog-worker')).egress as Array<Record<string, unknown>>;
    expect(worker).toContainEqual({ toCIDR: ['2001:db8::10/128'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
    expect(worker).toContainEqual({ toEntities: ['world'], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] });
  });

  it('widens in the NetworkPolicy what it cannot express, and says so in a comment', () => {
    const checkout = draftFor(kubernetes, 'NetworkPolicy', 'shop/checkout');
    const egress = spec(checkout).egress as Array<Record<string, unknown>>;
    // api.stripe.com:443 becomes "anywhere outside the cluster on 443".
    expect(egress).toContainEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    });
    // kube-apiserver:443 becomes "any peer on 443".
    expect(egress).toContainEqual({ ports: [{ protocol: 'TCP', port: 443 }] });
    const yaml = toPolicyYaml([checkout]);
    expect(yaml).toContain("# NetworkPolicy cannot select Cilium's kube-apiserver identity: every peer is allowed on these ports");
    expect(yaml).toContain('# NetworkPolicy cannot name DNS names: any address outside the cluster is allowed on these ports');
    expect(yaml).toContain('# NetworkPolicy has no DNS rules: every name may be looked up');
    const payments = toPolicyYaml([draftFor(kubernetes, 'NetworkPolicy', 'payments/payments')]);
    expect(payments).toContain('# NetworkPolicy has no HTTP rules: every method and path is allowed on these ports');
  });

  it('puts a workload with no observed ingress into default deny for ingress', () => {
    const lonely = pod('tools', 'cron-1', 'cron', { app: 'cron' });
    const d = buildPolicyDrafts([edge(lonely, fqdn('example.org'), 443, 'TCP'), edge(lonely, reserved('kube-apiserver'), 443, 'TCP')]);
    const cnp = draftFor(d.policies, 'CiliumNetworkPolicy', 'tools/cron');
    expect(spec(cnp).ingress).toEqual([{}]);
    const knp = draftFor(d.policies, 'NetworkPolicy', 'tools/cron');
    expect(spec(knp)).toMatchObject({ policyTypes: ['Ingress', 'Egress'], ingress: [] });
    for (const p of [cnp, knp]) expect(toSchemaErrors(p.manifest)).toEqual([]);
    expect(d.warnings).toContain(
      "tools/cron: calls DNS names but no DNS traffic was observed in the cluster; toFQDNs works only when Cilium's DNS proxy sees the lookups",
    );
    // Checked against its own traffic: the toFQDNs rule alone cannot work, which the check reports.
    const result = check(
      d.policies.filter((p) => p.kind === 'CiliumNetworkPolicy'),
      [edge(lonely, fqdn('example.org'), 443, 'TCP')],
    );
    expect(result.decisions[0]!.verdict).toBe('denied');
    expect(result.decisions[0]!.egress.reason).toContain('no DNS rule of this endpoint sees its lookup');
  });

  it('sends DNS to the cluster DNS for a workload whose own lookups were not observed, so that its toFQDNs rules work', () => {
    // A long-lived connection opened before the observed range: the call is there, its lookup is not.
    const worker = pod('tools', 'sync-0', 'sync', { app: 'sync' }, 'StatefulSet');
    const other = pod('tools', 'web-1', 'web', { app: 'web' });
    const dns = pod('kube-system', 'coredns-1', 'coredns', { 'k8s-app': 'kube-dns' });
    const edges = [
      edge(worker, fqdn('api.github.com'), 443, 'TCP'),
      edge(other, dns, 53, 'UDP', { dnsQueries: ['example.org'] }),
      edge(other, dns, 53, 'TCP', { dnsQueries: ['example.org'] }),
    ];
    const d = buildPolicyDrafts(edges, { kinds: ['CiliumNetworkPolicy'] });
    const egress = spec(draftFor(d.policies, 'CiliumNetworkPolicy', 'tools/sync')).egress as Array<Record<string, unknown>>;
    const dnsRule = { dns: [{ matchName: 'api.github.com' }] };
    expect(egress).toContainEqual({
      toEndpoints: [{ matchLabels: { 'k8s-app': 'kube-dns', 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }],
      toPorts: [
        { ports: [{ port: '53', protocol: 'TCP' }], rules: dnsRule },
        { ports: [{ port: '53', protocol: 'UDP' }], rules: dnsRule },
      ],
    });
    expect(d.warnings).toContain(
      "tools/sync: calls DNS names but none of its DNS traffic was observed; its drafts allow DNS to kube-system/coredns so that Cilium's DNS proxy sees the lookups",
    );
    expect(toPolicyYaml(d.policies)).toContain(
      "#   53/UDP: not observed; allowed so that the lookups behind the caller's toFQDNs rules pass Cilium's DNS proxy",
    );
    // The DNS server's own draft lets the lookups in.
    const coredns = spec(draftFor(d.policies, 'CiliumNetworkPolicy', 'kube-system/coredns')).ingress as Array<Record<string, unknown>>;
    expect(coredns).toContainEqual({
      fromEndpoints: [{ matchLabels: { app: 'sync', 'k8s:io.kubernetes.pod.namespace': 'tools' } }],
      toPorts: [
        {
          ports: [
            { port: '53', protocol: 'TCP' },
            { port: '53', protocol: 'UDP' },
          ],
        },
      ],
    });
    expect(
      check(d.policies, [edges[0]!, edge(worker, dns, 53, 'UDP', { dnsQueries: ['api.github.com'] })]).decisions.map((x) => x.verdict),
    ).toEqual(['allowed', 'allowed']);
  });

  it('drafts only the chosen namespace or workload', () => {
    const ns = buildPolicyDrafts(edges, { scope: { namespace: 'payments' } });
    expect([...new Set(ns.policies.map((p) => p.workload))]).toEqual(['payments/ledger', 'payments/payments']);
    const one = buildPolicyDrafts(edges, { scope: { namespace: 'shop', workload: 'cart' }, kinds: ['NetworkPolicy'] });
    expect(one.policies.map((p) => `${p.kind} ${p.workload}`)).toEqual(['NetworkPolicy shop/cart']);
  });
});

function forwarded(edges: readonly ObservedEdge[]): ObservedEdge[] {
  return edges.filter((e) => e.verdict === 'FORWARDED');
}

function verdictCounts(decisions: readonly EdgeDecision[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of decisions) out[d.verdict] = (out[d.verdict] ?? 0) + 1;
  return out;
}

describe('drafts checked against the traffic they were drafted from (round trip)', () => {
  for (const seed of [1, 2, 3]) {
    const { edges } = buildSyntheticTraffic(seed);
    const drafts = buildPolicyDrafts(edges).policies;
    const count = forwarded(edges).length;

    it(`allows 100% of the FORWARDED edges with the Cilium drafts alone (seed ${seed})`, () => {
      const result = check(
        drafts.filter((p) => p.kind === 'CiliumNetworkPolicy'),
        edges,
      );
      expect(verdictCounts(result.decisions)).toEqual({ allowed: count });
      // Pod-to-pod edges were allowed on both sides: the caller's egress and the callee's ingress.
      const podToPod = result.decisions.filter(
        (d) =>
          d.edge.source.kind === 'pod' &&
          d.edge.destination.kind === 'pod' &&
          d.edge.source.workload !== null &&
          d.edge.destination.workload !== null,
      );
      expect(podToPod.length).toBeGreaterThan(0);
      for (const d of podToPod) expect([d.egress.outcome, d.ingress.outcome]).toEqual(['allowed', 'allowed']);
    });

    it(`allows 100% of the FORWARDED edges with the Kubernetes drafts alone (seed ${seed})`, () => {
      const result = check(
        drafts.filter((p) => p.kind === 'NetworkPolicy'),
        edges,
      );
      expect(verdictCounts(result.decisions)).toEqual({ allowed: count });
    });

    it(`denies the DROPPED edges, which the drafts never learned (seed ${seed})`, () => {
      const result = check(drafts, edges, ['DROPPED']);
      expect(result.decisions.length).toBeGreaterThan(0);
      expect(verdictCounts(result.decisions)).toEqual({ denied: result.decisions.length });
    });
  }
});

function ruleId(r: RuleRef): string {
  return `${r.policy.namespace}/${r.policy.name} ${r.path}`;
}

describe('removing one rule of the Cilium drafts', () => {
  // Without the bare pod, whose namespace-wide fallback overlaps other rules, every edge is allowed
  // on each side by exactly one rule, so each removal must deny exactly what the rule covered.
  const { edges } = buildSyntheticTraffic(4, { bareDebugPod: false });
  const drafts = buildPolicyDrafts(edges, { kinds: ['CiliumNetworkPolicy'] }).policies;
  const full = check(drafts, edges);
  const covered = new Map<string, Set<string>>();
  for (const d of full.decisions) {
    for (const side of [d.egress, d.ingress]) {
      for (const r of [...side.allowedBy, ...side.requires]) {
        const set = covered.get(ruleId(r)) ?? new Set();
        set.add(d.key);
        covered.set(ruleId(r), set);
      }
    }
  }
  const rules: Array<{ policy: number; direction: 'ingress' | 'egress'; index: number; id: string }> = [];
  drafts.forEach((p, policy) => {
    for (const direction of ['ingress', 'egress'] as const) {
      const list = spec(p)[direction] as unknown[];
      list.forEach((r, index) => {
        if (JSON.stringify(r) !== '{}')
          rules.push({ policy, direction, index, id: `${p.namespace}/${p.name} spec.${direction}[${index}]` });
      });
    }
  });

  it('has a rule for every kind of peer, each covering at least one edge', () => {
    expect(rules.length).toBeGreaterThan(40);
    for (const r of rules) expect({ rule: r.id, covers: (covered.get(r.id)?.size ?? 0) > 0 }).toEqual({ rule: r.id, covers: true });
  });

  it('denies exactly the edges that rule covered, for every rule', () => {
    for (const r of rules) {
      const manifests = drafts.map((p) => structuredClone(p.manifest));
      const list = (manifests[r.policy]!.spec as Record<string, unknown[]>)[r.direction]!;
      list.splice(r.index, 1);
      // An emptied list would lift default deny; the empty rule keeps it.
      if (list.length === 0) list.push({});
      const yaml = manifests.map((m) => stringify(m)).join('---\n');
      const result = buildPolicyCheck(parsePolicyDocuments(yaml), edges, { allowLocalHost: false });
      const denied = result.decisions.filter((d) => d.verdict !== 'allowed');
      expect({ rule: r.id, denied: denied.map((d) => d.key).sort(), verdicts: [...new Set(denied.map((d) => d.verdict))] }).toEqual({
        rule: r.id,
        denied: [...(covered.get(r.id) ?? [])].sort(),
        verdicts: ['denied'],
      });
    }
  });
});

describe('drafts of a small hand-made graph', () => {
  it('learns the time range and counts it names in the header and comments', () => {
    const web = pod('default', 'web-1', 'web', { app: 'web' });
    const api = pod('default', 'api-1', 'api', { app: 'api' });
    const e = edge(web, api, 8080, 'TCP', { flows: 1240, connections: 310, firstSeenMs: T0, lastSeenMs: T0 + 90_000 });
    const d = buildPolicyDrafts([e], { kinds: ['CiliumNetworkPolicy'] });
    const yaml = toPolicyYaml(d.policies);
    expect(yaml).toContain('#   8080/TCP: 1 edge, 1,240 flows, 310 connections, last seen 2026-11-20T00:01:30.000Z');
    expect(yaml).toContain('(1 edges, 2026-11-20T00:00:00.000Z .. 2026-11-20T00:01:30.000Z)');
  });
});

describe("drafts of the flow generator's graph", () => {
  // An independent source of realistic traffic: the generator's ground truth (what the collector
  // stores for its flows), turned into observed edges the way phase 2 will read them from the graph.
  const truth = generateFlows({ pods: 150, edges: 600, flows: 3000, seed: 11 }).truth();
  const byId = new Map(truth.endpoints.map((e) => [e.id, e]));
  const toObserved = (id: string): ObservedEndpoint => {
    const e = byId.get(id);
    if (e === undefined) throw new Error(`no endpoint ${id}`);
    return {
      id,
      kind: e.kind,
      namespace: e.namespace,
      labels: e.labels ?? [],
      workload: e.kind === 'pod' ? toWorkloadName({ workload: e.workload, workloadKind: e.workloadKind, name: e.name }) : null,
      workloadKind: e.workloadKind,
      reservedName: e.kind === 'reserved' ? e.name : null,
    };
  };
  const edges: ObservedEdge[] = truth.calls.map((c) => ({
    source: toObserved(c.sourceId),
    destination: toObserved(c.destinationId),
    port: c.port,
    protocol: c.protocol as ObservedEdge['protocol'],
    verdict: c.verdict,
    flows: c.flows,
    connections: c.connections,
    requests: c.requests,
    firstSeenMs: c.firstSeenMs,
    lastSeenMs: c.lastSeenMs,
    dnsQueries: c.dnsQueries,
    dnsQueriesTruncated: c.dnsQueries.length >= 50,
    http: null,
  }));

  it('allows every FORWARDED edge', () => {
    const drafts = buildPolicyDrafts(edges, { kinds: ['CiliumNetworkPolicy'] }).policies;
    expect(verdictCounts(check(drafts, edges).decisions)).toEqual({ allowed: forwarded(edges).length });
  });

  it('allows a DROPPED edge only where the same workloads talked on the same port (policies select workloads, not pods)', () => {
    const drafts = buildPolicyDrafts(edges, { kinds: ['CiliumNetworkPolicy'] }).policies;
    // The generator drops random pod pairs; another pod of the same workload may well have been
    // allowed to the same server workload and port, and a workload-level policy then allows both.
    const selectors = buildWorkloadSelectors(edges.flatMap((e) => [e.source, e.destination]));
    const side = (ep: ObservedEndpoint) =>
      ep.kind === 'pod' ? JSON.stringify([ep.namespace, selectors.get(workloadKeyOf(ep))?.matchLabels ?? null]) : ep.id;
    const key = (e: ObservedEdge) => `${side(e.source)}|${side(e.destination)}|${e.port}|${e.protocol}`;
    const learned = new Set(forwarded(edges).map(key));
    const dropped = check(drafts, edges, ['DROPPED']).decisions;
    expect(dropped.filter((d) => d.verdict === 'denied').length).toBeGreaterThan(dropped.length / 2);
    for (const d of dropped.filter((x) => x.verdict === 'allowed')) expect([d.key, learned.has(key(d.edge))]).toEqual([d.key, true]);
  });
});
