import { BlockList, isIP } from 'node:net';
import { type ObservedEndpoint, fqdnNameOf, ipAddressOf, reservedIdentityOf } from './observed-traffic';
import type { LabelSelector, PeerMatcher } from './policy-model';
import { normalizeDnsName } from '../model/dns-name';

/** Cilium's label with the pod's namespace (it adds it to every pod's identity). */
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
/** Cilium's prefix of the namespace's own labels on a pod's identity. */
export const NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
/** The label Kubernetes (1.21+) puts on every namespace, its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

const WORLD_NAMES = new Set(['world', 'world-ipv4', 'world-ipv6']);

/** Entities whose endpoints are all reserved identities of that name. */
const RESERVED_ENTITIES = new Set(['host', 'remote-node', 'kube-apiserver', 'health', 'init', 'ingress', 'unmanaged']);

/** Every entity name the check knows (Cilium's list, with the dual-stack world names). */
export const KNOWN_ENTITIES: readonly string[] = [
  'all',
  'cluster',
  'health',
  'host',
  'ingress',
  'init',
  'kube-apiserver',
  'none',
  'remote-node',
  'unmanaged',
  'world',
  'world-ipv4',
  'world-ipv6',
];

/** An observed endpoint as policy sees it: its identity labels and what kind of peer it is. */
export interface EndpointView {
  readonly endpoint: ObservedEndpoint;
  /** Identity labels by normalized key (`app`, `io.kubernetes.pod.namespace`, `reserved:world`). */
  readonly labels: ReadonlyMap<string, string>;
  /** Pods: the labels of their namespace (from Cilium's `io.cilium.k8s.namespace.labels.*`, plus its name). */
  readonly namespaceLabels: ReadonlyMap<string, string>;
  /** Outside the cluster: `reserved:world*`, `fqdn:` and `ip:` endpoints. */
  readonly world: boolean;
  readonly address: string | null;
  readonly fqdn: string | null;
  readonly reserved: string | null;
}

function splitLabel(label: string): [string, string] {
  const eq = label.indexOf('=');
  return eq < 0 ? [label, ''] : [label.slice(0, eq), label.slice(eq + 1)];
}

/** Builds the policy view of an endpoint (labels as Cilium's identity would carry them). */
export function toEndpointView(endpoint: ObservedEndpoint): EndpointView {
  const labels = new Map<string, string>();
  const namespaceLabels = new Map<string, string>();
  const reserved = reservedIdentityOf(endpoint);
  const fqdn = fqdnNameOf(endpoint);
  const address = ipAddressOf(endpoint);
  if (endpoint.kind === 'pod') {
    for (const label of endpoint.labels) {
      const [key, value] = splitLabel(label);
      labels.set(key, value);
      if (key.startsWith(NAMESPACE_LABELS_PREFIX)) namespaceLabels.set(key.slice(NAMESPACE_LABELS_PREFIX.length), value);
    }
    if (endpoint.namespace !== null) {
      if (!labels.has(POD_NAMESPACE_LABEL)) labels.set(POD_NAMESPACE_LABEL, endpoint.namespace);
      namespaceLabels.set(NAMESPACE_NAME_LABEL, endpoint.namespace);
    }
  } else if (reserved !== null) {
    labels.set(`reserved:${reserved}`, '');
    if (WORLD_NAMES.has(reserved)) labels.set('reserved:world', '');
  } else {
    // fqdn: and ip: endpoints are outside the cluster: Cilium gives their addresses world (CIDR) identities.
    labels.set('reserved:world', '');
  }
  const world = endpoint.kind === 'fqdn' || endpoint.kind === 'ip' || (reserved !== null && WORLD_NAMES.has(reserved));
  return { endpoint, labels, namespaceLabels, world, address, fqdn, reserved };
}

/** Whether labels satisfy a selector (Kubernetes semantics: every matchLabels pair and every expression). */
export function matchesSelector(labels: ReadonlyMap<string, string>, selector: LabelSelector): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labels.get(key) !== value) return false;
  }
  for (const e of selector.matchExpressions) {
    const value = labels.get(e.key);
    switch (e.operator) {
      case 'In':
        if (value === undefined || !e.values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && e.values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

/** Whether a Cilium entity includes the endpoint. */
export function matchesEntity(entity: string, view: EndpointView): boolean {
  switch (entity) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'world':
      return view.world;
    case 'world-ipv4':
      return view.world && (view.address === null || isIP(view.address) === 4);
    case 'world-ipv6':
      return view.world && (view.address === null || isIP(view.address) === 6);
    case 'cluster':
      return !view.world;
    default:
      return RESERVED_ENTITIES.has(entity) && view.reserved === entity;
  }
}

/** A CIDR `a.b.c.d/n` or `x::/n` split, or null when it is not one (a bare address counts as /32 or /128). */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const slash = cidr.indexOf('/');
  const address = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return null;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > max) return null;
  return { address, prefix, family };
}

function cidrContains(cidr: string, address: string): boolean {
  const c = parseCidr(cidr);
  const family = isIP(address);
  if (c === null || family !== c.family) return false;
  const list = new BlockList();
  list.addSubnet(c.address, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Outcome of matching a CIDR rule: `assumed` when the endpoint has no address and the rule covers all addresses but with exceptions. */
export type CidrMatch = 'yes' | 'no' | 'assumed';

/**
 * Whether a CIDR (minus its exceptions) selects an endpoint. Only world endpoints can be selected
 * by CIDR (Cilium gives pods and nodes their own identities). `ip:` endpoints are tested by
 * address; world endpoints without one (`fqdn:`, `reserved:world`) only by a /0 CIDR, and then with
 * exceptions only as an assumption.
 */
export function matchesCidr(cidr: string, except: readonly string[], view: EndpointView): CidrMatch {
  if (!view.world) return 'no';
  if (view.address !== null) {
    if (!cidrContains(cidr, view.address)) return 'no';
    return except.some((x) => cidrContains(x, view.address as string)) ? 'no' : 'yes';
  }
  const c = parseCidr(cidr);
  if (c === null || c.prefix !== 0) return 'no';
  return except.length === 0 ? 'yes' : 'assumed';
}

const DNS_CHARS = '[-a-zA-Z0-9_]';

/** A name as written in a policy or stored on an edge, in the graph's spelling (surrounding blanks dropped). */
function trimDot(name: string): string {
  return normalizeDnsName(name.trim());
}

/**
 * Whether a DNS name matches Cilium's `matchName` (exact, case-insensitive) or `matchPattern`:
 * `*` alone matches every name; a leading `**.` matches one or more labels; any other `*` matches
 * characters within one label.
 */
export function matchesDnsName(name: string, matchName: string | null, matchPattern: string | null): boolean {
  const n = trimDot(name);
  if (matchName !== null) return trimDot(matchName) === n;
  if (matchPattern === null) return false;
  let p = trimDot(matchPattern);
  if (/^\*+$/.test(p)) return true;
  let prefix = '';
  const multi = /^\*{2,}\./.exec(p);
  if (multi !== null) {
    prefix = `${DNS_CHARS}+(?:\\.${DNS_CHARS}+)*\\.`;
    p = p.slice(multi[0].length);
  }
  const body = p
    .split('.')
    .map((part) => part.split(/\*+/).join(`${DNS_CHARS}*`))
    .join('\\.');
  return new RegExp(`^${prefix}${body}$`).test(n);
}

/**
 * Whether a peer matcher selects an endpoint (toFQDNs is matched here by name only; the check adds
 * Cilium's condition that a DNS rule sees the lookup). `assumed` when it holds only under an
 * assumption the caller reports.
 */
export function matchesPeer(peer: PeerMatcher, view: EndpointView): CidrMatch {
  switch (peer.type) {
    case 'endpoints':
      return matchesSelector(view.labels, peer.selector) ? 'yes' : 'no';
    case 'entities':
      return peer.entities.some((e) => matchesEntity(e, view)) ? 'yes' : 'no';
    case 'cidr':
      return matchesCidr(peer.cidr, peer.except, view);
    case 'fqdn':
      return view.fqdn !== null && matchesDnsName(view.fqdn, peer.matchName, peer.matchPattern) ? 'yes' : 'no';
    case 'k8s': {
      // A Kubernetes peer with a pod or namespace selector selects pods only.
      if (view.endpoint.kind !== 'pod') return 'no';
      if (peer.namespaceSelector === null) {
        if (view.endpoint.namespace !== peer.namespace) return 'no';
      } else if (!matchesSelector(view.namespaceLabels, peer.namespaceSelector)) {
        return 'no';
      }
      return peer.podSelector === null || matchesSelector(view.labels, peer.podSelector) ? 'yes' : 'no';
    }
    case 'unmodelled':
      return 'no';
  }
}
