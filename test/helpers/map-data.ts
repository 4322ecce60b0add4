import type { ApiCall, ApiEndpoint, ApiMapEdge, ApiMapNode } from '../../ui/src/model/api-types';

/** A map edge as the API answers it: 10 flows, no L7, forwarded on TCP port 80; `extra` overrides. */
export function mapEdge(source: string, target: string, extra: Partial<ApiMapEdge> = {}): ApiMapEdge {
  return {
    id: `${source}->${target}`,
    source,
    target,
    flows: 10,
    requests: 0,
    errors: 0,
    errorRate: 0,
    verdicts: ['FORWARDED'],
    ports: [80],
    protocols: ['TCP'],
    latencyP95Ms: null,
    calls: 1,
    lastSeen: null,
    ...extra,
  };
}

/** A map node of one pod (the name is the id's last part). */
export function mapNode(id: string, kind: ApiMapNode['kind'] = 'POD', namespace: string | null = 'shop'): ApiMapNode {
  return { id, kind, name: id.split('/').pop() ?? id, namespace, pods: 1 };
}

/** A call as the API's `callAdded`/`callUpdated` send it: forwarded on TCP port 80, 4 flows, 2 requests answered; `extra` overrides. */
export function apiCall(source: ApiEndpoint, destination: ApiEndpoint, extra: Partial<ApiCall> = {}): ApiCall {
  return {
    key: `${source.id}|${destination.id}|80|TCP|FORWARDED`,
    source,
    destination,
    port: 80,
    protocol: 'TCP',
    verdict: 'FORWARDED',
    flows: 4,
    requests: 2,
    responses: 2,
    errors: 0,
    errorRate: 0,
    l7Protocols: [],
    statusCounts: [],
    dropReasons: [],
    latency: null,
    firstSeen: '2026-11-25T10:00:00.000Z',
    lastSeen: '2026-11-25T10:00:10.000Z',
    ...extra,
  };
}
