import { PolicyDocumentError, parsePolicyDocuments } from '../../../src/policy';

const CNP = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {"k8s:app": frontend}}]
`;

function parseError(text: string): string {
  try {
    parsePolicyDocuments(text, { source: 'policies.yaml' });
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyDocumentError);
    return (err as Error).message;
  }
  throw new Error('expected a PolicyDocumentError');
}

describe('parsePolicyDocuments', () => {
  it('reads several documents of every kind, Lists included, and skips empty documents', () => {
    const text = `${CNP}---
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: all-dns}
spec:
  endpointSelector: {}
  egress: [{toEndpoints: [{matchLabels: {k8s-app: kube-dns, "k8s:io.kubernetes.pod.namespace": kube-system}}]}]
---
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: deny-all, namespace: payments}
  spec: {podSelector: {}}
- apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: two-specs}
  specs:
  - endpointSelector: {matchLabels: {app: a}}
    egress: [{}]
  - endpointSelector: {matchLabels: {app: b}}
    ingressDeny: [{fromEntities: [world]}]
`;
    const set = parsePolicyDocuments(text, { source: 'policies.yaml' });
    expect(set.policies.map((p) => [p.ref.kind, p.ref.namespace, p.ref.name, p.ref.document, p.ref.within])).toEqual([
      ['CiliumNetworkPolicy', 'shop', 'web', 1, ''],
      ['CiliumClusterwideNetworkPolicy', null, 'all-dns', 3, ''],
      ['NetworkPolicy', 'payments', 'deny-all', 4, 'items[0]'],
      // No namespace in metadata: the default namespace, as kubectl without a context namespace.
      ['CiliumNetworkPolicy', 'default', 'two-specs', 4, 'items[1]'],
      ['CiliumNetworkPolicy', 'default', 'two-specs', 4, 'items[1]'],
    ]);
    expect(set.policies[4]!.rules[0]!.ref.path).toBe('specs[1].ingressDeny[0]');
    expect(set.warnings).toEqual([]);
  });

  it('limits a namespaced policy to its namespace and scopes peer selectors as Cilium does', () => {
    const text = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints:
    - matchLabels: {app: a}
    - matchLabels: {"k8s:io.kubernetes.pod.namespace": payments, app: b}
    - matchLabels: {"io.cilium.k8s.namespace.labels.team": blue}
    - matchLabels: {"reserved:host": ""}
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: c}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress: [{fromEndpoints: [{matchLabels: {app: a}}]}]
`;
    const [cnp, ccnp] = parsePolicyDocuments(text).policies;
    expect(cnp!.subject).toEqual({ matchLabels: { app: 'web', 'io.kubernetes.pod.namespace': 'shop' }, matchExpressions: [] });
    const peers = cnp!.rules[0]!.peers;
    expect(peers).toEqual([
      // No namespace named: the policy's own.
      { type: 'endpoints', selector: { matchLabels: { app: 'a', 'io.kubernetes.pod.namespace': 'shop' }, matchExpressions: [] } },
      // A namespace named: kept (the k8s: prefix is dropped, as the graph stores labels).
      { type: 'endpoints', selector: { matchLabels: { 'io.kubernetes.pod.namespace': 'payments', app: 'b' }, matchExpressions: [] } },
      // Namespaces by their labels: any namespace with the label.
      { type: 'endpoints', selector: { matchLabels: { 'io.cilium.k8s.namespace.labels.team': 'blue' }, matchExpressions: [] } },
      // Reserved labels: never scoped.
      { type: 'endpoints', selector: { matchLabels: { 'reserved:host': '' }, matchExpressions: [] } },
    ]);
    // Clusterwide: any namespace, but pods only (the namespace label must exist).
    expect(ccnp!.subject).toEqual({ matchLabels: { app: 'web' }, matchExpressions: [] });
    expect(ccnp!.rules[0]!.peers).toEqual([
      {
        type: 'endpoints',
        selector: { matchLabels: { app: 'a' }, matchExpressions: [{ key: 'io.kubernetes.pod.namespace', operator: 'Exists', values: [] }] },
      },
    ]);
  });

  it('puts a policy into default deny per direction: Cilium by its rule lists or enableDefaultDeny, Kubernetes by policyTypes', () => {
    const text = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: only-egress}
spec: {endpointSelector: {}, egress: [{toEntities: [world]}]}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: additive}
spec: {endpointSelector: {}, enableDefaultDeny: {ingress: false}, ingress: [{fromEntities: [world]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k-default}
spec: {podSelector: {}, egress: [{}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k-egress-only}
spec: {podSelector: {}, policyTypes: [Egress], ingress: [{}]}
`;
    const set = parsePolicyDocuments(text);
    expect(set.policies.map((p) => [p.ref.name, p.defaultDeny])).toEqual([
      ['only-egress', { ingress: false, egress: true }],
      ['additive', { ingress: false, egress: false }],
      // Without policyTypes: Ingress always, Egress because there is an egress section.
      ['k-default', { ingress: true, egress: true }],
      ['k-egress-only', { ingress: false, egress: true }],
    ]);
    expect(set.warnings).toEqual([
      {
        where: 'input document 4 (NetworkPolicy default/k-egress-only) spec.ingress',
        message: 'policyTypes does not include Ingress: these rules have no effect',
      },
    ]);
  });

  it('names the document and line of invalid YAML', () => {
    expect(parseError(`${CNP}---\nkind: [unclosed\n`)).toMatch(/^policies\.yaml document 2: invalid YAML at line \d+, column \d+: /);
  });

  it('names the document and kind of something that is not a network policy', () => {
    expect(parseError(`${CNP}---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\n`)).toBe(
      'policies.yaml document 2 kind: "Pod" is not a network policy (expected CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or a List of them)',
    );
    expect(parseError('apiVersion: cilium.io/v1\nkind: CiliumNetworkPolicy\nmetadata: {name: x}\n')).toBe(
      'policies.yaml document 1 apiVersion: expected cilium.io/v2 for CiliumNetworkPolicy, got "cilium.io/v1"',
    );
    expect(parseError('just a string\n')).toBe('policies.yaml document 1: expected a mapping, got "just a string"');
  });

  it('rejects a misspelt field with its path instead of silently changing the rule', () => {
    const text = CNP.replace('fromEndpoints', 'fromEndpoint');
    expect(parseError(text)).toBe(
      'policies.yaml document 1 (CiliumNetworkPolicy shop/web) spec.ingress[0].fromEndpoint: unknown field (expected one of authentication, fromCIDR, fromCIDRSet, fromEndpoints, fromEntities, fromGroups, fromNodes, fromRequires, icmps, toPorts)',
    );
  });

  it.each(['constructor', 'toString', '__proto__'])(
    'rejects a field named after a property every object inherits (%s) as unknown',
    (field) => {
      const text = CNP.replace('- fromEndpoints:', `- ${field}: x\n    fromEndpoints:`);
      expect(parseError(text)).toMatch(
        new RegExp(
          `^policies\\.yaml document 1 \\(CiliumNetworkPolicy shop/web\\) spec\\.ingress\\[0\\]\\.${field}: unknown field \\(expected one of `,
        ),
      );
    },
  );

  it.each([
    [
      'matchExpressions: [{key: app, operator: Equals, values: [a]}]',
      'spec.ingress[0].fromEndpoints[0].matchExpressions[0].operator: expected one of In, NotIn, Exists, DoesNotExist, got "Equals"',
    ],
    [
      'matchExpressions: [{key: app, operator: In}]',
      'spec.ingress[0].fromEndpoints[0].matchExpressions[0].values: In needs at least one value',
    ],
    [
      'matchExpressions: [{key: app, operator: Exists, values: [a]}]',
      'spec.ingress[0].fromEndpoints[0].matchExpressions[0].values: Exists takes no values, got ["a"]',
    ],
    ['matchLabels: {app: [a]}', 'spec.ingress[0].fromEndpoints[0].matchLabels.app: expected a string, got ["a"]'],
  ])('rejects a bad selector (%s)', (selector, message) => {
    const text = CNP.replace('{matchLabels: {"k8s:app": frontend}}', `{${selector}}`);
    expect(parseError(text)).toBe(`policies.yaml document 1 (CiliumNetworkPolicy shop/web) ${message}`);
  });

  it.each([
    [
      '{ports: [{port: "8080", protocol: HTTP}]}',
      'spec.ingress[0].toPorts[0].ports[0].protocol: expected one of TCP, UDP, SCTP, ANY, got "HTTP"',
    ],
    [
      '{ports: [{port: "8080", protocol: ICMP}]}',
      'spec.ingress[0].toPorts[0].ports[0].protocol: expected one of TCP, UDP, SCTP, ANY, got "ICMP" (ICMP is allowed with `icmps`)',
    ],
    ['{ports: [{port: "70000"}]}', 'spec.ingress[0].toPorts[0].ports[0].port: expected a port from 0 to 65535, got "70000"'],
    ['{ports: [{port: "9000", endPort: 8000}]}', 'spec.ingress[0].toPorts[0].ports[0].endPort: endPort 8000 is below port 9000'],
    ['{ports: [{protocol: TCP}]}', 'spec.ingress[0].toPorts[0].ports[0].port: missing (Cilium requires a port; "0" means every port)'],
    [
      '{ports: [{port: "80"}], rules: {http: [{path: "/a("}]}}',
      'spec.ingress[0].toPorts[0].rules.http[0].path: not a valid regular expression "/a(": Unterminated group',
    ],
  ])('rejects a bad port rule (%s)', (toPorts, message) => {
    const text = CNP.replace('- fromEndpoints:', `- toPorts: [${toPorts}]\n    fromEndpoints:`);
    expect(parseError(text)).toBe(`policies.yaml document 1 (CiliumNetworkPolicy shop/web) ${message}`);
  });

  it('rejects an unknown entity, a bad CIDR and L7 rules in a deny rule', () => {
    const base = 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x, namespace: a}\nspec:\n  endpointSelector: {}\n';
    expect(parseError(`${base}  egress: [{toEntities: [internet]}]\n`)).toContain(
      'spec.egress[0].toEntities[0]: unknown entity "internet" (expected one of all, cluster, health, host',
    );
    expect(parseError(`${base}  egress: [{toCIDR: [10.0.0.0/33]}]\n`)).toBe(
      'policies.yaml document 1 (CiliumNetworkPolicy a/x) spec.egress[0].toCIDR[0]: not a CIDR: "10.0.0.0/33"',
    );
    expect(parseError(`${base}  egressDeny: [{toPorts: [{ports: [{port: "80"}], rules: {http: [{}]}}]}]\n`)).toBe(
      'policies.yaml document 1 (CiliumNetworkPolicy a/x) spec.egressDeny[0].toPorts[0].rules: unknown field (expected one of ports)',
    );
    expect(parseError(`${base}  egressDeny: [{toFQDNs: [{matchName: a.com}]}]\n`)).toContain('spec.egressDeny[0].toFQDNs: unknown field');
  });

  it('rejects a Kubernetes peer that mixes ipBlock with selectors, and a missing podSelector', () => {
    const base = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: k, namespace: a}\n';
    expect(parseError(`${base}spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}\n`)).toBe(
      'policies.yaml document 1 (NetworkPolicy a/k) spec.ingress[0].from[0]: ipBlock cannot be combined with podSelector or namespaceSelector',
    );
    expect(parseError(`${base}spec: {ingress: []}\n`)).toBe(
      'policies.yaml document 1 (NetworkPolicy a/k) spec.podSelector: missing (use {} to select every pod of the namespace)',
    );
  });

  it('warns about constructs that exist but are not modelled, saying how each is treated', () => {
    const text = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: misc, namespace: shop}
spec:
  endpointSelector: {}
  egress:
  - toServices: [{k8sService: {serviceName: db, namespace: shop}}]
  - toPorts: [{ports: [{port: http}]}]
  - toPorts: [{ports: [{port: "9092"}], rules: {kafka: [{topic: orders}]}}]
  - toPorts: [{ports: [{port: "80"}], rules: {http: [{method: GET, headers: ["X-Token: 1"]}]}}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: host-fw}
spec:
  nodeSelector: {}
  ingress: [{fromEntities: [cluster]}]
`;
    const set = parsePolicyDocuments(text);
    expect(set.warnings.map((w) => `${w.where}: ${w.message}`)).toEqual([
      'input document 1 (CiliumNetworkPolicy shop/misc) spec.egress[0].toServices: toServices is not modelled: treated as selecting no observed endpoint',
      'input document 1 (CiliumNetworkPolicy shop/misc) spec.egress[1].toPorts[0].ports[0].port: named port "http" cannot be resolved without the pod spec: it matches no observed port',
      'input document 1 (CiliumNetworkPolicy shop/misc) spec.egress[2].toPorts[0].rules.kafka: kafka rules are not modelled: assumed to allow every request on these ports',
      'input document 1 (CiliumNetworkPolicy shop/misc) spec.egress[3].toPorts[0].rules.http[0]: headers not observed by the graph: assumed to match',
      'input document 2 (CiliumClusterwideNetworkPolicy host-fw) spec.nodeSelector: host policies (nodeSelector) are not modelled: this policy is ignored',
    ]);
    expect(set.policies[1]!.subject).toBeNull();
  });
});
