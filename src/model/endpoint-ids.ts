import { normalizeDnsName } from './dns-name';

/**
 * Endpoint kinds and ids, and the key of a CALLS edge: the identity of what the graph stores. The
 * flow core builds them, the storage layer merges on them and the API reads them back; the
 * README's "Graph model" section describes the same ids.
 */

/** What an endpoint is: a pod, a reserved Cilium identity, an external DNS name, or a bare address. */
export type EndpointKind = 'pod' | 'reserved' | 'fqdn' | 'ip';

/** Every endpoint kind, in the order the graph model lists them. */
export const ENDPOINT_KINDS: readonly EndpointKind[] = ['pod', 'reserved', 'fqdn', 'ip'];

/** A pod's id: `namespace/podName`. */
export function podId(namespace: string, podName: string): string {
  return `${namespace}/${podName}`;
}

/**
 * Prefixes of the ids of the aggregate endpoints the Prometheus source writes when Hubble's metrics
 * name a workload or a namespace rather than a pod (kind `reserved`, src/prometheus/endpoint-label.ts).
 */
export const AGGREGATE_ID_PREFIX = { workload: 'workload:', namespace: 'namespace:' } as const;

/** A workload's aggregate endpoint id: `workload:namespace/name`. */
export function workloadAggregateId(namespace: string, name: string): string {
  return `${AGGREGATE_ID_PREFIX.workload}${namespace}/${name}`;
}

/** A namespace's aggregate endpoint id: `namespace:name`. */
export function namespaceAggregateId(namespace: string): string {
  return `${AGGREGATE_ID_PREFIX.namespace}${namespace}`;
}

/**
 * The namespace of a pod's id (`namespace/podName`); null for the other kinds, whose ids have no
 * `/` (reserved names, DNS names and addresses never hold one) or, a workload's aggregate, start
 * with its prefix.
 */
export function podNamespaceOf(id: string): string | null {
  const slash = id.indexOf('/');
  return slash < 0 || id.startsWith(AGGREGATE_ID_PREFIX.workload) ? null : id.slice(0, slash);
}

/**
 * What an endpoint's id alone says of it: kind, name and namespace, as the endpoint rows name them
 * (src/flows/to-endpoint.ts, src/prometheus/endpoint-label.ts). The POD map describes its nodes with
 * it instead of reading them (src/graph/cypher/api-map-queries.ts), also an end no longer stored:
 * a ranged map shows the calls of its range though an end has been pruned since.
 */
export function endpointOfId(id: string): { kind: EndpointKind; name: string; namespace: string | null } {
  if (id.startsWith(AGGREGATE_ID_PREFIX.namespace)) {
    const name = id.slice(AGGREGATE_ID_PREFIX.namespace.length);
    return { kind: 'reserved', name, namespace: name };
  }
  if (id.startsWith(AGGREGATE_ID_PREFIX.workload)) {
    const [namespace, name] = splitAtSlash(id.slice(AGGREGATE_ID_PREFIX.workload.length));
    return { kind: 'reserved', name, namespace };
  }
  const namespace = podNamespaceOf(id);
  if (namespace !== null) return { kind: 'pod', name: id.slice(namespace.length + 1), namespace };
  for (const kind of ENDPOINT_KINDS) if (id.startsWith(`${kind}:`)) return { kind, name: id.slice(kind.length + 1), namespace: null };
  return { kind: 'ip', name: id, namespace: null };
}

/** `namespace/name` as its two parts (the name may be empty when there is no `/`). */
function splitAtSlash(text: string): [string, string] {
  const slash = text.indexOf('/');
  return slash < 0 ? [text, ''] : [text.slice(0, slash), text.slice(slash + 1)];
}

/** A reserved identity's id: `reserved:world`, `reserved:host`, ... */
export function reservedId(name: string): string {
  return `reserved:${name}`;
}

/** An external DNS name's id: `fqdn:` and the name as the graph keeps it (src/model/dns-name.ts). */
export function fqdnId(name: string): string {
  return `fqdn:${normalizeDnsName(name)}`;
}

/** An address with no identity and no name: `ip:10.1.2.3`. */
export function ipId(address: string): string {
  return `ip:${address}`;
}

/** The unique key of a CALLS relationship: one per (source, destination, port, IP protocol, verdict). */
export function callKey(sourceId: string, destinationId: string, port: number, protocol: string, verdict: string): string {
  return `${callKeyPrefix(sourceId, destinationId)}${port}|${protocol}|${verdict}`;
}

/** The parts of a call key (callKey's arguments); an error naming the key when it has not their shape. */
export function parseCallKey(key: string): { sourceId: string; destinationId: string; port: number; protocol: string; verdict: string } {
  // No id holds a `|`: pod and workload names, reserved names, DNS names and addresses cannot.
  const [sourceId, destinationId, portText, protocol, verdict, ...rest] = key.split('|');
  const port = Number(portText);
  if (verdict === undefined || rest.length > 0 || portText === '' || !Number.isInteger(port))
    throw new Error(`not a call key: ${JSON.stringify(key)}`);
  return { sourceId: sourceId as string, destinationId: destinationId as string, port, protocol: protocol as string, verdict };
}

/** What the keys of every call from `sourceId` to `destinationId` start with (and their activity buckets' keys). */
export function callKeyPrefix(sourceId: string, destinationId: string): string {
  return `${sourceId}|${destinationId}|`;
}
