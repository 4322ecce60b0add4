import { createHash } from 'node:crypto';
import type { NamespaceCallRecord } from '../graph/cypher/api-map-queries';
import type { EndpointRecord } from '../graph/cypher/api-endpoint-queries';
import type { DagLink, DagNode, HubbleLink, HubbleService } from './generated/graphql-types';
import { toLabels } from './to-graphql';
import { toWorkloadName } from '../model/workload-name';
import { callKey } from '../model/endpoint-ids';

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

/** Order of ids and names in the answers: `localeCompare`'s, with one collator instead of one per comparison. */
const byLocale = new Intl.Collator().compare;

/** An ISO-8601 time with its parsed value, so that comparing it again costs no parse. */
interface Stamp {
  iso: string | null;
  ms: number;
}

function stamp(iso: string | null): Stamp {
  return { iso, ms: iso ? Date.parse(iso) : NaN };
}

function earlier(a: Stamp, b: Stamp): Stamp {
  if (!a.iso) return b;
  if (!b.iso) return a;
  return a.ms <= b.ms ? a : b;
}

function later(a: Stamp, b: Stamp): Stamp {
  if (!a.iso) return b;
  if (!b.iso) return a;
  return a.ms >= b.ms ? a : b;
}

/**
 * Each distinct endpoint of `records` once, in the order they first appear, with its name by
 * `nameOf` (a namespace's calls name the same pods in call after call; one node, one record, so the
 * first is the endpoint), and each record's ends' names.
 */
function distinctEnds(
  records: readonly NamespaceCallRecord[],
  nameOf: (e: EndpointRecord) => string,
): { ends: { e: EndpointRecord; name: string }[]; named: { call: NamespaceCallRecord['call']; source: string; destination: string }[] } {
  const nameById = new Map<string, string>();
  const ends: { e: EndpointRecord; name: string }[] = [];
  const nameOnce = (e: EndpointRecord) => {
    let name = nameById.get(e.id);
    if (name === undefined) {
      name = nameOf(e);
      nameById.set(e.id, name);
      ends.push({ e, name });
    }
    return name;
  };
  return { ends, named: records.map((r) => ({ call: r.call, source: nameOnce(r.source), destination: nameOnce(r.destination) })) };
}

export function toHubbleServiceMap(
  namespace: string,
  records: readonly NamespaceCallRecord[],
): { services: HubbleService[]; links: HubbleLink[] } {
  const { ends, named } = distinctEnds(records, serviceKey);
  const services = new Map<string, { card: Omit<HubbleService, 'creationTimestamp'>; firstSeen: Stamp; lastSeen: Stamp }>();
  for (const { e, name: id } of ends) {
    const isPod = e.kind === 'pod';
    const lastSeen = stamp(e.lastSeen);
    const existing = services.get(id);
    if (existing) {
      existing.firstSeen = earlier(existing.firstSeen, stamp(e.firstSeen));
      // The most recently seen pod's labels describe the card.
      if (isPod && later(existing.lastSeen, lastSeen) === lastSeen && e.lastSeen !== existing.lastSeen.iso) {
        existing.card.labels = toLabels(e.labels).filter((l) => !POD_SPECIFIC_LABELS.has(l.key));
        existing.lastSeen = lastSeen;
      }
      continue;
    }
    services.set(id, {
      card: {
        id,
        name: isPod ? toWorkloadName(e) : e.name,
        namespace: isPod && e.namespace ? e.namespace : namespace,
        labels: isPod ? toLabels(e.labels).filter((l) => !POD_SPECIFIC_LABELS.has(l.key)) : [{ key: e.id, value: '' }],
        dnsNames: e.kind === 'fqdn' ? [e.name] : [],
        egressPolicyEnforced: false,
        ingressPolicyEnforced: false,
        visibilityPolicyStatus: '?unknown?',
      },
      firstSeen: stamp(e.firstSeen),
      lastSeen,
    });
  }
  const links = new Map<string, HubbleLink>();
  for (const { call, source: sourceId, destination: destinationId } of named) {
    const port = typeof call.port === 'number' ? call.port : 0;
    const protocol = String(call.protocol ?? '');
    const verdict = String(call.verdict ?? '');
    const id = callKey(sourceId, destinationId, port, protocol, verdict);
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
  // A card's creation: when the first of its pods was first seen.
  const cards = [...services.values()].map(({ card, firstSeen }) => ({ ...card, creationTimestamp: toPbTimestamp(firstSeen.iso) }));
  return {
    services: cards.sort((a, b) => byLocale(a.id, b.id)),
    links: [...links.values()].sort((a, b) => byLocale(a.id, b.id)),
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
  const { ends, named } = distinctEnds(records, (e) => dagNodeName(namespace, e));
  const nodes = new Map<string, { node: DagNode; lastSeen: Stamp }>();
  for (const { e, name } of ends) {
    const lastSeen = stamp(e.lastSeen);
    const existing = nodes.get(name);
    // A name's node is its most recently seen pod.
    if (
      existing &&
      !(e.kind === 'pod' && e.lastSeen && later(existing.lastSeen, lastSeen) === lastSeen && existing.lastSeen.iso !== e.lastSeen)
    )
      continue;
    const platform = e.kind === 'pod' ? 'kubernetes' : e.kind === 'reserved' ? 'cilium' : 'external';
    nodes.set(name, {
      node: {
        name,
        id: e.id,
        pod: e.kind === 'pod' ? e.name : null,
        platform,
        namespace: e.namespace ?? null,
        guid: md5(serviceKey(e)),
        agent_guid: e.node ? md5(e.node) : '',
        image: '',
      },
      lastSeen,
    });
  }
  const links = new Map<string, { source: string; target: string; requests: number; flows: number }>();
  for (const { call, source, destination: target } of named) {
    const id = `${source}\u0000${target}`;
    const link = links.get(id) ?? { source, target, requests: 0, flows: 0 };
    link.requests += typeof call.requests === 'number' ? call.requests : 0;
    link.flows += typeof call.flows === 'number' ? call.flows : 0;
    links.set(id, link);
  }
  const list = [...nodes.values()].map((n) => n.node).sort((a, b) => byLocale(a.name, b.name));
  const dagNodes: Record<string, DagNode> = {};
  for (const n of list) dagNodes[n.name] = n;
  return {
    dag_nodes: dagNodes,
    dag_links: [...links.values()]
      .map((l) => ({ source: l.source, target: l.target, value: l.requests > 0 ? l.requests : l.flows, traceIds: [] }))
      .sort((a, b) => byLocale(a.source, b.source) || byLocale(a.target, b.target)),
    nodes: list,
  };
}
