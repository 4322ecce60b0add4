import { isIP } from 'node:net';
import { type WorkloadSelector, buildWorkloadSelectors } from './build-workload-selectors';
import { toHttpPathRegex } from './http-path-pattern';
import { NAMESPACE_NAME_LABEL, POD_NAMESPACE_LABEL } from './match-peer';
import {
  DNS_PORT,
  type ObservedEdge,
  type ObservedEndpoint,
  type ObservedProtocol,
  fqdnNameOf,
  ipAddressOf,
  isDnsEdge,
  reservedIdentityOf,
  workloadKeyOf,
  workloadNameOf,
} from './observed-traffic';

/** Which workloads get a draft: every one (no fields), those of a namespace, or one workload. */
export interface DraftScope {
  namespace?: string;
  /** Stable workload name (with `namespace`). */
  workload?: string;
}

export type DraftKind = 'CiliumNetworkPolicy' | 'NetworkPolicy';

export interface PolicyDraftOptions {
  /** Default: the whole cluster. */
  scope?: DraftScope;
  /** Verdicts of the traffic to allow. Default `['FORWARDED']`. */
  verdicts?: readonly string[];
  /** Kinds to draft. Default both, Cilium first. */
  kinds?: readonly DraftKind[];
}

/** A comment placed before the YAML node at `path` (keys and list indexes from the document root). */
export interface DraftComment {
  readonly path: readonly (string | number)[];
  readonly text: string;
}

/** One drafted policy: the manifest (plain data, ready for YAML or JSON) and its comments. */
export interface PolicyDraft {
  readonly kind: DraftKind;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/workload` the policy is for. */
  readonly workload: string;
  readonly manifest: Record<string, unknown>;
  /** Comment above the document. */
  readonly header: string;
  /** Comments above rules: what each was learned from. */
  readonly comments: readonly DraftComment[];
}

export interface PolicyDrafts {
  /** Sorted by kind (Cilium first), namespace, workload. */
  readonly policies: readonly PolicyDraft[];
  /** What could not be drafted exactly (a workload without stable labels, an unknown identity, ...). */
  readonly warnings: readonly string[];
}

/** Suffix of every drafted policy's name (`checkout-hubble-graph`). */
export const DRAFT_NAME_SUFFIX = '-hubble-graph';

/** Cilium entities for the reserved identities the graph stores; the world variants are all `world`. */
const ENTITY_OF_RESERVED: Readonly<Record<string, string>> = {
  world: 'world',
  'world-ipv4': 'world',
  'world-ipv6': 'world',
  host: 'host',
  'remote-node': 'remote-node',
  'kube-apiserver': 'kube-apiserver',
  health: 'health',
  init: 'init',
  ingress: 'ingress',
  unmanaged: 'unmanaged',
};

/** Cilium allows at most 40 ports in one `toPorts` entry (CRD schema). */
const MAX_PORTS_PER_ENTRY = 40;

const DNS_NAME = /^([-a-zA-Z0-9_]+[.]?)+$/;

/** The other end of traffic as a draft names it. */
type DraftPeer =
  | { readonly type: 'workload'; readonly key: string; readonly selector: WorkloadSelector }
  /** Pods of workloads without stable labels: selected through their namespace. */
  | { readonly type: 'namespace'; readonly key: string; readonly namespace: string }
  | { readonly type: 'entity'; readonly key: string; readonly entity: string }
  | { readonly type: 'fqdn'; readonly key: string; readonly name: string }
  | { readonly type: 'cidr'; readonly key: string; readonly cidr: string };

interface PortUse {
  readonly port: number;
  readonly protocol: ObservedProtocol;
  readonly edges: ObservedEdge[];
}

interface PeerUse {
  readonly peer: DraftPeer;
  /** The observed endpoint names that make up the peer, for comments. */
  readonly endpoints: Set<string>;
  readonly ports: Map<string, PortUse>;
}

interface WorkloadTraffic {
  readonly workload: string;
  readonly namespace: string;
  readonly name: string;
  readonly kind: string | null;
  readonly selector: WorkloadSelector;
  readonly ingress: Map<string, PeerUse>;
  readonly egress: Map<string, PeerUse>;
  readonly edges: Set<ObservedEdge>;
  readonly dnsNames: Set<string>;
  /** Some DNS edge has no recorded names (no DNS visibility) or more than were kept: allow every name. */
  dnsAnyName: boolean;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function inScope(pod: ObservedEndpoint, scope: DraftScope): boolean {
  if (pod.kind !== 'pod') return false;
  if (scope.namespace !== undefined && pod.namespace !== scope.namespace) return false;
  return scope.workload === undefined || workloadNameOf(pod) === scope.workload;
}

function toPeer(
  endpoint: ObservedEndpoint,
  direction: 'ingress' | 'egress',
  selectors: ReadonlyMap<string, WorkloadSelector | null>,
  warnings: Set<string>,
): DraftPeer | null {
  switch (endpoint.kind) {
    case 'pod': {
      const selector = selectors.get(workloadKeyOf(endpoint)) ?? null;
      const ns = endpoint.namespace ?? '';
      if (selector === null) return { type: 'namespace', key: `1:${ns}/`, namespace: ns };
      return { type: 'workload', key: `1:${selector.workload}`, selector };
    }
    case 'reserved': {
      const name = reservedIdentityOf(endpoint) ?? '';
      const entity = ENTITY_OF_RESERVED[name];
      if (entity === undefined) {
        warnings.add(`reserved identity "${name}" (${endpoint.id}) has no Cilium entity: its traffic is left out of the drafts`);
        return null;
      }
      return { type: 'entity', key: `2:${entity}`, entity };
    }
    case 'fqdn': {
      // Cilium has no fromFQDNs: traffic from a named world address is allowed as world.
      if (direction === 'ingress') return { type: 'entity', key: '2:world', entity: 'world' };
      const name = fqdnNameOf(endpoint) ?? '';
      if (!DNS_NAME.test(name)) {
        warnings.add(`DNS name "${name}" cannot be written in toFQDNs: traffic to it is left out of the drafts`);
        return null;
      }
      return { type: 'fqdn', key: `4:${name}`, name };
    }
    case 'ip': {
      const address = ipAddressOf(endpoint) ?? '';
      const family = isIP(address);
      if (family === 0) {
        warnings.add(`${endpoint.id} is not an IP address: its traffic is left out of the drafts`);
        return null;
      }
      const cidr = `${address}/${family === 4 ? 32 : 128}`;
      return { type: 'cidr', key: `3:${cidr}`, cidr };
    }
  }
}

/** Sort key of a port: numeric order, then protocol. */
function portKeyOf(port: number, protocol: ObservedProtocol): string {
  return `${String(port).padStart(5, '0')}/${protocol}`;
}

function addUse(uses: Map<string, PeerUse>, peer: DraftPeer, other: ObservedEndpoint, edge: ObservedEdge): void {
  let use = uses.get(peer.key);
  if (use === undefined) uses.set(peer.key, (use = { peer, endpoints: new Set(), ports: new Map() }));
  use.endpoints.add(workloadKeyOf(other));
  const portKey = portKeyOf(edge.port, edge.protocol);
  let port = use.ports.get(portKey);
  if (port === undefined) use.ports.set(portKey, (port = { port: edge.port, protocol: edge.protocol, edges: [] }));
  port.edges.push(edge);
}

function buildWorkloadTraffic(
  edges: readonly ObservedEdge[],
  selectors: ReadonlyMap<string, WorkloadSelector | null>,
  scope: DraftScope,
  warnings: Set<string>,
): WorkloadTraffic[] {
  const byWorkload = new Map<string, WorkloadTraffic>();
  const clusterDns = findClusterDns(edges, selectors);
  const unselectable = new Set<string>();
  const subjectOf = (pod: ObservedEndpoint): WorkloadTraffic | null => {
    if (!inScope(pod, scope)) return null;
    const key = workloadKeyOf(pod);
    const selector = selectors.get(key) ?? null;
    if (selector === null) {
      unselectable.add(key);
      return null;
    }
    let t = byWorkload.get(key);
    if (t === undefined) {
      t = {
        workload: key,
        namespace: pod.namespace ?? '',
        name: workloadNameOf(pod),
        kind: pod.workloadKind,
        selector,
        ingress: new Map(),
        egress: new Map(),
        edges: new Set(),
        dnsNames: new Set(),
        dnsAnyName: false,
      };
      byWorkload.set(key, t);
    }
    return t;
  };
  const record = (t: WorkloadTraffic, direction: 'ingress' | 'egress', other: ObservedEndpoint, edge: ObservedEdge): DraftPeer | null => {
    const peer = toPeer(other, direction, selectors, warnings);
    if (peer !== null) {
      addUse(t[direction], peer, other, edge);
      t.edges.add(edge);
    }
    return peer;
  };
  for (const edge of edges) {
    const client = subjectOf(edge.source);
    if (client !== null) {
      const peer = record(client, 'egress', edge.destination, edge);
      if (isDnsEdge(edge)) {
        for (const name of edge.dnsQueries) client.dnsNames.add(name);
        if (edge.dnsQueries.length === 0 || edge.dnsQueriesTruncated) client.dnsAnyName = true;
      }
      if (peer?.type === 'fqdn') client.dnsNames.add(peer.name);
    }
    const server = subjectOf(edge.destination);
    if (server !== null) record(server, 'ingress', edge.source, edge);
  }
  for (const key of [...unselectable].sort()) {
    warnings.add(
      `${key}: no stable labels to select its pods, so no policy is drafted for it (other drafts allow it through its whole namespace)`,
    );
  }
  for (const t of byWorkload.values()) {
    if (t.selector.alsoSelects.length > 0) {
      warnings.add(`${t.workload}: its labels also select ${t.selector.alsoSelects.join(', ')}; their drafts share the selector`);
    }
    const hasFqdn = [...t.egress.values()].some((u) => u.peer.type === 'fqdn');
    const hasDns = [...t.egress.values()].some((u) => [...u.ports.values()].some((p) => isDnsEdge(p)));
    if (!hasFqdn || hasDns) continue;
    if (clusterDns === null) {
      warnings.add(
        `${t.workload}: calls DNS names but no DNS traffic was observed in the cluster; toFQDNs works only when Cilium's DNS proxy sees the lookups`,
      );
      continue;
    }
    // toFQDNs learns addresses only from lookups through Cilium's DNS proxy: the workload's lookups
    // were not observed (a connection older than the observed range), so its draft sends DNS to the
    // cluster's DNS server with a DNS rule, or its DNS names could never be reached.
    let use = t.egress.get(clusterDns.peer.key);
    if (use === undefined)
      t.egress.set(clusterDns.peer.key, (use = { peer: clusterDns.peer, endpoints: new Set([clusterDns.workload]), ports: new Map() }));
    for (const protocol of clusterDns.protocols) use.ports.set(portKeyOf(DNS_PORT, protocol), { port: DNS_PORT, protocol, edges: [] });
    // A drafted DNS server must let these lookups in too.
    const server = byWorkload.get(clusterDns.workload);
    if (server !== undefined) {
      const peer: DraftPeer = { type: 'workload', key: `1:${t.workload}`, selector: t.selector };
      let inUse = server.ingress.get(peer.key);
      if (inUse === undefined) server.ingress.set(peer.key, (inUse = { peer, endpoints: new Set([t.workload]), ports: new Map() }));
      for (const protocol of clusterDns.protocols) {
        const key = portKeyOf(DNS_PORT, protocol);
        if (!inUse.ports.has(key)) inUse.ports.set(key, { port: DNS_PORT, protocol, edges: [] });
      }
    }
    warnings.add(
      `${t.workload}: calls DNS names but none of its DNS traffic was observed; its drafts allow DNS to ${clusterDns.workload} so that Cilium's DNS proxy sees the lookups`,
    );
  }
  return [...byWorkload.values()].sort((a, b) => compareText(a.workload, b.workload));
}

/** The cluster's DNS server: the pod workload that received the most DNS edges, and their protocols. */
interface ClusterDns {
  readonly workload: string;
  readonly peer: DraftPeer;
  readonly protocols: readonly ObservedProtocol[];
}

function findClusterDns(edges: readonly ObservedEdge[], selectors: ReadonlyMap<string, WorkloadSelector | null>): ClusterDns | null {
  const byWorkload = new Map<string, { endpoint: ObservedEndpoint; count: number; protocols: Set<ObservedProtocol> }>();
  for (const e of edges) {
    if (!isDnsEdge(e) || e.destination.kind !== 'pod') continue;
    const key = workloadKeyOf(e.destination);
    const entry = byWorkload.get(key) ?? { endpoint: e.destination, count: 0, protocols: new Set<ObservedProtocol>() };
    entry.count += 1;
    entry.protocols.add(e.protocol);
    byWorkload.set(key, entry);
  }
  const best = [...byWorkload.entries()].sort(([ka, a], [kb, b]) => b.count - a.count || compareText(ka, kb))[0];
  if (best === undefined) return null;
  const peer = toPeer(best[1].endpoint, 'egress', selectors, new Set());
  return peer === null ? null : { workload: best[0], peer, protocols: [...best[1].protocols].sort() };
}

function sumEdges(edges: readonly ObservedEdge[]): { flows: number; connections: number; requests: number; lastSeenMs: number } {
  let flows = 0;
  let connections = 0;
  let requests = 0;
  let lastSeenMs = 0;
  for (const e of edges) {
    flows += e.flows;
    connections += e.connections;
    requests += e.requests;
    lastSeenMs = Math.max(lastSeenMs, e.lastSeenMs);
  }
  return { flows, connections, requests, lastSeenMs };
}

function describePort(use: PortUse): string {
  if (use.edges.length === 0)
    return `${use.port}/${use.protocol}: not observed; allowed so that the lookups behind the caller's toFQDNs rules pass Cilium's DNS proxy`;
  const s = sumEdges(use.edges);
  const parts = [`${formatCount(s.flows)} flows`];
  if (s.connections > 0) parts.push(`${formatCount(s.connections)} connections`);
  if (s.requests > 0) parts.push(`${formatCount(s.requests)} requests`);
  const port = use.protocol.startsWith('ICMP') ? use.protocol : `${use.port}/${use.protocol}`;
  return `${port}: ${use.edges.length} edge${use.edges.length === 1 ? '' : 's'}, ${parts.join(', ')}, last seen ${iso(s.lastSeenMs)}`;
}

function describePeer(peer: DraftPeer): string {
  switch (peer.type) {
    case 'workload': {
      const labels = Object.entries(peer.selector.matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return `${peer.selector.workload} (${labels})`;
    }
    case 'namespace':
      return `pods of namespace ${peer.namespace} without stable labels (the whole namespace is allowed)`;
    case 'entity':
      return `entity ${peer.entity}`;
    case 'fqdn':
      return peer.name;
    case 'cidr':
      return peer.cidr;
  }
}

function sortedUses(uses: Map<string, PeerUse>): PeerUse[] {
  return [...uses.values()].sort((a, b) => compareText(a.peer.key, b.peer.key));
}

function sortedPorts(use: PeerUse): PortUse[] {
  return [...use.ports.entries()].sort(([a], [b]) => compareText(a, b)).map(([, p]) => p);
}

function ruleComment(direction: 'ingress' | 'egress', use: PeerUse, extra: readonly string[]): string {
  const lines = [` learned from ${direction === 'ingress' ? 'calls from' : 'calls to'} ${describePeer(use.peer)}`];
  const names = [...use.endpoints].sort();
  if (use.peer.type !== 'workload' || names.length > 1 || names[0] !== use.peer.selector.workload) {
    lines.push(`   observed as ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`);
  }
  for (const p of sortedPorts(use)) lines.push(`   ${describePort(p)}`);
  for (const e of extra) lines.push(` ${e}`);
  return lines.join('\n');
}

/** HTTP rules for the observed requests of a port, or null (with the reason) when they cannot be exact. */
function httpRulesFor(use: PortUse): { rules: Array<Record<string, string>> | null; note: string | null } {
  const withHttp = use.edges.filter((e) => e.http !== null && (e.http.paths.length > 0 || e.http.overflowRequests > 0));
  if (withHttp.length === 0) return { rules: null, note: null };
  if (withHttp.length < use.edges.length) {
    return {
      rules: null,
      note: `${use.port}/${use.protocol}: ${use.edges.length - withHttp.length} of ${use.edges.length} edges carried no HTTP details, so the port is allowed at L4`,
    };
  }
  const pairs = new Map<string, { method: string; pattern: string }>();
  let overflow = 0;
  for (const e of withHttp) {
    for (const p of e.http?.paths ?? []) pairs.set(`${p.pattern} ${p.method}`, p);
    overflow += e.http?.overflowRequests ?? 0;
  }
  const rules: Array<Record<string, string>> = [...pairs.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([, p]): Record<string, string> =>
      p.method === 'UNKNOWN' ? { path: toHttpPathRegex(p.pattern) } : { method: p.method, path: toHttpPathRegex(p.pattern) },
    );
  let note: string | null = null;
  if (overflow > 0) {
    rules.push({});
    note = `${use.port}/${use.protocol}: ${formatCount(overflow)} requests went to paths past the recorded bound; the last HTTP rule ({}) allows any request`;
  }
  return { rules, note };
}

/**
 * The DNS rule of a workload: the names it looked up and called, or every name when some lookups
 * were not recorded by name or a name cannot be written in a rule (refusing it would break it).
 */
function dnsRulesFor(t: WorkloadTraffic): Array<Record<string, string>> {
  const names = [...t.dnsNames].filter((n) => DNS_NAME.test(n)).sort();
  if (t.dnsAnyName || names.length === 0 || names.length < t.dnsNames.size) return [{ matchPattern: '*' }];
  return names.map((matchName) => ({ matchName }));
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function icmpField(protocol: ObservedProtocol): Record<string, unknown> {
  // The graph keeps no ICMP type; a client->server ICMP edge is an echo request (ping).
  return protocol === 'ICMPv6' ? { family: 'IPv6', type: 128 } : { family: 'IPv4', type: 8 };
}

function ciliumPeerFields(direction: 'ingress' | 'egress', peer: DraftPeer): Record<string, unknown> {
  const from = direction === 'ingress';
  switch (peer.type) {
    case 'workload':
      return {
        [from ? 'fromEndpoints' : 'toEndpoints']: [
          { matchLabels: { ...peer.selector.matchLabels, [`k8s:${POD_NAMESPACE_LABEL}`]: peer.selector.namespace } },
        ],
      };
    case 'namespace':
      return { [from ? 'fromEndpoints' : 'toEndpoints']: [{ matchLabels: { [`k8s:${POD_NAMESPACE_LABEL}`]: peer.namespace } }] };
    case 'entity':
      return { [from ? 'fromEntities' : 'toEntities']: [peer.entity] };
    case 'cidr':
      return { [from ? 'fromCIDR' : 'toCIDR']: [peer.cidr] };
    case 'fqdn':
      return { toFQDNs: [{ matchName: peer.name }] };
  }
}

function ciliumRule(direction: 'ingress' | 'egress', use: PeerUse, t: WorkloadTraffic): { rule: Record<string, unknown>; notes: string[] } {
  const notes: string[] = [];
  const l7Entries: Array<Record<string, unknown>> = [];
  const l4Ports: Array<Record<string, string>> = [];
  const icmpFields: Array<Record<string, unknown>> = [];
  for (const p of sortedPorts(use)) {
    if (p.protocol === 'ICMPv4' || p.protocol === 'ICMPv6') {
      icmpFields.push(icmpField(p.protocol));
      continue;
    }
    const port = { port: String(p.port), protocol: p.protocol };
    if (direction === 'egress' && isDnsEdge(p)) {
      // The DNS rule sends lookups through Cilium's DNS proxy: toFQDNs learns addresses only from it.
      l7Entries.push({ ports: [port], rules: { dns: dnsRulesFor(t) } });
      if (JSON.stringify(dnsRulesFor(t)) === JSON.stringify([{ matchPattern: '*' }])) {
        notes.push(
          'DNS: some lookups were not recorded by name (no DNS visibility, more names than kept, or a name no rule can hold), so every name is allowed',
        );
      }
      continue;
    }
    if (direction === 'ingress') {
      const http = httpRulesFor(p);
      if (http.note !== null) notes.push(http.note);
      if (http.rules !== null) {
        l7Entries.push({ ports: [port], rules: { http: http.rules } });
        continue;
      }
    }
    l4Ports.push(port);
  }
  const toPorts = [...l7Entries, ...chunk(l4Ports, MAX_PORTS_PER_ENTRY).map((ports) => ({ ports }))];
  const rule: Record<string, unknown> = { ...ciliumPeerFields(direction, use.peer) };
  if (toPorts.length > 0) rule.toPorts = toPorts;
  if (icmpFields.length > 0) rule.icmps = [{ fields: icmpFields }];
  return { rule, notes: [...new Set(notes)] };
}

function draftName(t: WorkloadTraffic): string {
  return `${t.name.slice(0, 253 - DRAFT_NAME_SUFFIX.length)}${DRAFT_NAME_SUFFIX}`;
}

function headerLines(kind: DraftKind, t: WorkloadTraffic, verdicts: readonly string[]): string[] {
  const edges = [...t.edges];
  const first = Math.min(...edges.map((e) => e.firstSeenMs));
  const last = Math.max(...edges.map((e) => e.lastSeenMs));
  const labels = Object.entries(t.selector.matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    ` ${kind} drafted by hubble-graph for ${t.workload}${t.kind ? ` (${t.kind})` : ''}: it allows the observed`,
    ` ${verdicts.join('/')} traffic of the workload and nothing else (${edges.length} edges, ${iso(first)} .. ${iso(last)}).`,
    ` Pods are selected by ${labels} (stable workload labels, see docs/network-policy.md).`,
    ...(t.selector.alsoSelects.length > 0 ? [` These labels also select ${t.selector.alsoSelects.join(', ')}.`] : []),
    ' Review it, then check it against the graph (hubble-graph policy check) before applying it.',
  ];
}

function toCiliumDraft(t: WorkloadTraffic, verdicts: readonly string[]): PolicyDraft {
  const comments: DraftComment[] = [];
  const spec: Record<string, unknown> = { endpointSelector: { matchLabels: { ...t.selector.matchLabels } } };
  for (const direction of ['ingress', 'egress'] as const) {
    const uses = sortedUses(t[direction]);
    if (uses.length === 0) {
      // An empty rule selects no peer but puts the pods in default deny for this direction.
      spec[direction] = [{}];
      comments.push({ path: ['spec', direction, 0], text: ` no ${direction} traffic observed: nothing is allowed` });
      continue;
    }
    spec[direction] = uses.map((use, i) => {
      const { rule, notes } = ciliumRule(direction, use, t);
      comments.push({ path: ['spec', direction, i], text: ruleComment(direction, use, notes) });
      return rule;
    });
  }
  const name = draftName(t);
  return {
    kind: 'CiliumNetworkPolicy',
    namespace: t.namespace,
    name,
    workload: t.workload,
    manifest: {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name, namespace: t.namespace },
      spec: { description: `Observed traffic of ${t.workload}, drafted by hubble-graph`, ...spec },
    },
    header: headerLines('CiliumNetworkPolicy', t, verdicts).join('\n'),
    comments,
  };
}

const WORLD_BLOCKS = [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }];

/** A Kubernetes rule's peers for a draft peer: a list, or `any` for what NetworkPolicy cannot select. */
function kubernetesPeers(peer: DraftPeer): { key: string; peers: Array<Record<string, unknown>> | 'any'; note: string | null } {
  switch (peer.type) {
    case 'workload':
      return {
        key: peer.key,
        peers: [
          {
            podSelector: { matchLabels: { ...peer.selector.matchLabels } },
            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.selector.namespace } },
          },
        ],
        note: null,
      };
    case 'namespace':
      return { key: peer.key, peers: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.namespace } } }], note: null };
    case 'cidr':
      return { key: peer.key, peers: [{ ipBlock: { cidr: peer.cidr } }], note: null };
    case 'fqdn':
      return {
        key: '3:world',
        peers: WORLD_BLOCKS,
        note: 'NetworkPolicy cannot name DNS names: any address outside the cluster is allowed on these ports',
      };
    case 'entity':
      if (peer.entity === 'world') return { key: '3:world', peers: WORLD_BLOCKS, note: null };
      return {
        key: '9:any',
        peers: 'any',
        note: `NetworkPolicy cannot select Cilium's ${peer.entity} identity: every peer is allowed on these ports`,
      };
  }
}

interface KubernetesGroup {
  peers: Array<Record<string, unknown>> | 'any';
  uses: PeerUse[];
  notes: Set<string>;
}

function toKubernetesDraft(t: WorkloadTraffic, verdicts: readonly string[]): PolicyDraft {
  const comments: DraftComment[] = [];
  const spec: Record<string, unknown> = { podSelector: { matchLabels: { ...t.selector.matchLabels } }, policyTypes: ['Ingress', 'Egress'] };
  for (const direction of ['ingress', 'egress'] as const) {
    const groups = new Map<string, KubernetesGroup>();
    for (const use of sortedUses(t[direction])) {
      const k = kubernetesPeers(use.peer);
      let g = groups.get(k.key);
      if (g === undefined) groups.set(k.key, (g = { peers: k.peers, uses: [], notes: new Set() }));
      g.uses.push(use);
      if (k.note !== null) g.notes.add(k.note);
      for (const p of use.ports.values()) {
        if (p.protocol === 'ICMPv4' || p.protocol === 'ICMPv6')
          g.notes.add('NetworkPolicy cannot allow ICMP alone: every port and protocol of these peers is allowed');
        else if (direction === 'egress' && isDnsEdge(p)) g.notes.add('NetworkPolicy has no DNS rules: every name may be looked up');
        else if (direction === 'ingress' && p.edges.some((e) => e.http !== null && e.http.paths.length > 0))
          g.notes.add('NetworkPolicy has no HTTP rules: every method and path is allowed on these ports');
      }
    }
    const rules = [...groups.entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([, g], i) => {
        const ports = new Map<string, PortUse>();
        let icmp = false;
        for (const use of g.uses) {
          for (const [key, p] of use.ports) {
            if (p.protocol === 'ICMPv4' || p.protocol === 'ICMPv6') icmp = true;
            else ports.set(key, p);
          }
        }
        const rule: Record<string, unknown> = {};
        if (g.peers !== 'any') rule[direction === 'ingress' ? 'from' : 'to'] = g.peers;
        if (!icmp) {
          rule.ports = [...ports.entries()].sort(([a], [b]) => compareText(a, b)).map(([, p]) => ({ protocol: p.protocol, port: p.port }));
        }
        const text = g.uses.map((use) => ruleComment(direction, use, [])).join('\n');
        comments.push({ path: ['spec', direction, i], text: [text, ...[...g.notes].sort().map((n) => ` ${n}`)].join('\n') });
        return rule;
      });
    spec[direction] = rules;
    if (rules.length === 0)
      comments.push({
        path: ['spec', 'policyTypes'],
        text: ` no ${direction} traffic observed: policyTypes with no ${direction} rules allows none`,
      });
  }
  const name = draftName(t);
  return {
    kind: 'NetworkPolicy',
    namespace: t.namespace,
    name,
    workload: t.workload,
    manifest: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: t.namespace }, spec },
    header: [
      ...headerLines('NetworkPolicy', t, verdicts),
      ' NetworkPolicy cannot express DNS names, HTTP rules or Cilium identities (host, kube-apiserver, ...): the',
      ' rules that need them are widened to the nearest form that keeps the traffic working, and say so.',
    ].join('\n'),
    comments,
  };
}

/**
 * Least-privilege drafts from observed traffic: per workload in scope, a CiliumNetworkPolicy and a
 * Kubernetes NetworkPolicy that allow exactly the observed traffic of the chosen verdicts (ingress
 * from its callers, egress to its callees, DNS through Cilium's DNS proxy with the names looked up,
 * DNS names by toFQDNs, HTTP by method and path) and put the workload in default deny both ways.
 * Deterministic: same edges, same drafts. Rules and their limits: docs/network-policy.md.
 */
export function buildPolicyDrafts(edges: readonly ObservedEdge[], options: PolicyDraftOptions = {}): PolicyDrafts {
  const verdicts = options.verdicts ?? ['FORWARDED'];
  const kinds = options.kinds ?? ['CiliumNetworkPolicy', 'NetworkPolicy'];
  const scope = options.scope ?? {};
  if (scope.workload !== undefined && scope.namespace === undefined) throw new RangeError('scope.workload needs scope.namespace');
  // Selectors are judged against every observed pod, whatever the verdict or scope.
  const selectors = buildWorkloadSelectors(edges.flatMap((e) => [e.source, e.destination]));
  const warnings = new Set<string>();
  const traffic = buildWorkloadTraffic(
    edges.filter((e) => verdicts.includes(e.verdict)),
    selectors,
    scope,
    warnings,
  );
  const policies: PolicyDraft[] = [];
  for (const kind of kinds) {
    for (const t of traffic) policies.push(kind === 'CiliumNetworkPolicy' ? toCiliumDraft(t, verdicts) : toKubernetesDraft(t, verdicts));
  }
  return { policies, warnings: [...warnings].sort() };
}
