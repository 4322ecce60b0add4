import type { ApiMapEdge, ApiMapNode } from '../../ui/src/model/api-types';

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
