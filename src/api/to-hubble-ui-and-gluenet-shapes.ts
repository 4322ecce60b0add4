import { createHash } from 'node:crypto';
import type { NamespaceCallRecord } from '../graph/cypher/api-map-queries';
import type { EndpointRecord } from '../graph/cypher/api-endpoint-queries';
import type { DagLink, DagNode, HubbleLink, HubbleService } from './generated/graphql-types';
import { toLabels } from './to-graphql';
import { toWorkloadName } from '../model/workload-name';

/**
 * Pure conversions of one namespace's calls into the shapes of two other UIs: Hubble UI's
 * `HubbleService` cards and `HubbleLink` arrows (`hubbleServiceMap`), and the old gluenet UI's
 * `dag_nodes`/`dag_links` (`dag`). The shapes are the schema's, as generated from it.
 */

/** Hubble UI's `IPProtocol` (ui.proto): 0 unknown, 1 TCP, 2 UDP, 3 ICMPv4, 4 ICMPv6. */
export const IP_PROTOCOL_NUMBER: Readonly<Record<string, number>> = { TCP: 1, UDP: 2, ICMPV4: 3, ICMPV6: 4 };

/** Hubble's `flow.Verdict` (flow.proto). */
export const VERDICT_NUMBER: Readonly<Record<string, number>> = {
  FORWARDED: 1,
  DROPPED: 2,
  ERROR: 3,
  AUDIT: 4,
  REDIRECTED: 5,
  TRACED: 6,
  TRANSLATED: 7,
};

/** Cilium's per-ReplicaSet label: it differs between pods of one workload and says nothing on a card. */
const POD_SPECIFIC_LABELS = new Set(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name']);

/** The service (card) an endpoint belongs to: its namespace and stable workload name, or the endpoint itself. */
export function serviceKey(e: EndpointRecord): string {
  return e.kind === 'pod' ? `${e.namespace}/${toWorkloadName(e)}` : e.id;
}

export function toPbTimestamp(iso: string | null): { seconds: number; nanos: number } {
  const ms = iso ? Date.parse(iso) : 0;
  const safe = Number.isNaN(ms) ? 0 : ms;
  return { seconds: Math.floor(safe / 1000), nanos: (safe % 1000) * 1_000_000 };
}

function earlier(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

function later(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

export function toHubbleServiceMap(
  namespace: string,
  records: readonly NamespaceCallRecord[],
): { services: HubbleService[]; links: HubbleLink[] } {
  const services = new Map<string, HubbleService & { lastSeen: string | null; firstSeen: string | null }>();
  const addService = (e: EndpointRecord) => {
    const id = serviceKey(e);
    const existing = services.get(id);
    if (existing) {
      existing.firstSeen = earlier(existing.firstSeen, e.firstSeen);
      // The most recently seen pod's labels describe the card.
      if (e.kind === 'pod' && later(existing.lastSeen, e.lastSeen) === e.lastSeen && e.lastSeen !== existing.lastSeen) {
        existing.labels = toLabels(e.labels).filter((l) => !POD_SPECIFIC_LABELS.has(l.key));
        existing.lastSeen = e.lastSeen;
      }
      existing.creationTimestamp = toPbTimestamp(existing.firstSeen);
      return;
    }
    const isPod = e.kind === 'pod';
    services.set(id, {
      id,
      name: isPod ? toWorkloadName(e) : e.name,
      namespace: isPod && e.namespace ? e.namespace : namespace,
      labels: isPod ? toLabels(e.labels).filter((l) => !POD_SPECIFIC_LABELS.has(l.key)) : [{ key: e.id, value: '' }],
      dnsNames: e.kind === 'fqdn' ? [e.name] : [],
      egressPolicyEnforced: false,
      ingressPolicyEnforced: false,
      visibilityPolicyStatus: '?unknown?',
      creationTimestamp: toPbTimestamp(e.firstSeen),
      firstSeen: e.firstSeen,
      lastSeen: e.lastSeen,
    });
  };
  const links = new Map<string, HubbleLink>();
  for (const rec of records) {
    addService(rec.source);
    addService(rec.destination);
    const sourceId = serviceKey(rec.source);
    const destinationId = serviceKey(rec.destination);
    const port = typeof rec.call.port === 'number' ? rec.call.port : 0;
    const protocol = String(rec.call.protocol ?? '');
    const verdict = String(rec.call.verdict ?? '');
    const id = `${sourceId}|${destinationId}|${port}|${protocol}|${verdict}`;
    if (!links.has(id)) {
      links.set(id, {
        id,
        sourceId,
        destinationId,
        destinationPort: port,
        ipProtocol: IP_PROTOCOL_NUMBER[protocol.toUpperCase()] ?? 0,
        verdict: VERDICT_NUMBER[verdict.toUpperCase()] ?? 0,
      });
    }
  }
  const out = [...services.values()].map(({ firstSeen: _f, lastSeen: _l, ...s }) => {
    void _f;
    void _l;
    return s;
  });
  return {
    services: out.sort((a, b) => a.id.localeCompare(b.id)),
    links: [...links.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** The gluenet node name: the workload name in the asked namespace, `namespace/workload` elsewhere, the endpoint id otherwise. */
export function dagNodeName(namespace: string, e: EndpointRecord): string {
  if (e.kind !== 'pod') return e.id;
  return e.namespace === namespace ? toWorkloadName(e) : `${e.namespace}/${toWorkloadName(e)}`;
}

export function toDag(
  namespace: string,
  records: readonly NamespaceCallRecord[],
): { dag_nodes: Record<string, DagNode>; dag_links: DagLink[]; nodes: DagNode[] } {
  const nodes = new Map<string, DagNode & { lastSeen: string | null }>();
  const addNode = (e: EndpointRecord) => {
    const name = dagNodeName(namespace, e);
    const existing = nodes.get(name);
    if (
      existing &&
      !(e.kind === 'pod' && e.lastSeen && later(existing.lastSeen, e.lastSeen) === e.lastSeen && existing.lastSeen !== e.lastSeen)
    )
      return;
    const platform = e.kind === 'pod' ? 'kubernetes' : e.kind === 'reserved' ? 'cilium' : 'external';
    nodes.set(name, {
      name,
      id: e.id,
      pod: e.kind === 'pod' ? e.name : null,
      platform,
      namespace: e.namespace ?? null,
      guid: md5(serviceKey(e)),
      agent_guid: e.node ? md5(e.node) : '',
      image: '',
      lastSeen: e.lastSeen,
    });
  };
  const links = new Map<string, { source: string; target: string; requests: number; flows: number }>();
  for (const rec of records) {
    addNode(rec.source);
    addNode(rec.destination);
    const source = dagNodeName(namespace, rec.source);
    const target = dagNodeName(namespace, rec.destination);
    const id = `${source}\u0000${target}`;
    const link = links.get(id) ?? { source, target, requests: 0, flows: 0 };
    link.requests += typeof rec.call.requests === 'number' ? rec.call.requests : 0;
    link.flows += typeof rec.call.flows === 'number' ? rec.call.flows : 0;
    links.set(id, link);
  }
  const list = [...nodes.values()]
    .map(({ lastSeen: _l, ...n }) => {
      void _l;
      return n;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const dagNodes: Record<string, DagNode> = {};
  for (const n of list) dagNodes[n.name] = n;
  return {
    dag_nodes: dagNodes,
    dag_links: [...links.values()]
      .map((l) => ({ source: l.source, target: l.target, value: l.requests > 0 ? l.requests : l.flows, traceIds: [] }))
      .sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target)),
    nodes: list,
  };
}
