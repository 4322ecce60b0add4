import type { Executor } from '../../../src/graph/executor';
import { type CallRow, type EndpointRow, type IngestBatch, emptyCallRow } from '../../../src/model/ingest-rows';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { callKey } from '../../../src/model/endpoint-ids';
import { readOneRow } from '../../helpers/neo4j';

/**
 * A small shop whose answers are known (see the tests): three web pods from two rollouts of one
 * Deployment, an api and a db StatefulSet, CoreDNS in another namespace, the world and one DNS name.
 */
export const T0 = Date.parse('2026-11-25T10:00:00Z');

export function podRow(
  namespace: string,
  name: string,
  workload: string | null,
  workloadKind: string | null,
  labels: string[],
  seenMs = T0,
): EndpointRow {
  return {
    id: `${namespace}/${name}`,
    kind: 'pod',
    name,
    namespace,
    labels,
    workload,
    workloadKind,
    identity: 1000,
    node: 'node-1',
    cluster: 'default',
    firstSeenMs: seenMs,
    lastSeenMs: seenMs,
    source: 'hubble',
  };
}

export function otherRow(id: string, kind: 'reserved' | 'fqdn', name: string): EndpointRow {
  return {
    id,
    kind,
    name,
    namespace: null,
    labels: kind === 'reserved' ? [id] : null,
    workload: null,
    workloadKind: null,
    identity: kind === 'reserved' ? 2 : null,
    node: null,
    cluster: null,
    firstSeenMs: T0,
    lastSeenMs: T0,
    source: 'hubble',
  };
}

export function callRow(
  sourceId: string,
  destinationId: string,
  port: number,
  protocol: string,
  verdict: string,
  extra: Partial<CallRow> = {},
): CallRow {
  const key = callKey(sourceId, destinationId, port, protocol, verdict);
  return { ...emptyCallRow({ key, sourceId, destinationId, port, protocol, verdict }, 'hubble', T0), flows: 1, ...extra };
}

export const ID = {
  webA: 'shop/web-7d9f8c6b5-aaaaa',
  webB: 'shop/web-7d9f8c6b5-bbbbb',
  webC: 'shop/web-5c4b3a291-ccccc',
  api: 'shop/api-0',
  db: 'shop/db-0',
  dns: 'infra/coredns-1',
  world: 'reserved:world',
  stripe: 'fqdn:api.stripe.com',
} as const;

export function shopBatch(): IngestBatch {
  const endpoints = [
    podRow('shop', 'web-7d9f8c6b5-aaaaa', 'web-7d9f8c6b5', 'ReplicaSet', ['app=web', 'tier=frontend', 'pod-template-hash=7d9f8c6b5']),
    podRow('shop', 'web-7d9f8c6b5-bbbbb', 'web-7d9f8c6b5', 'ReplicaSet', ['app=web', 'tier=frontend', 'pod-template-hash=7d9f8c6b5']),
    podRow(
      'shop',
      'web-5c4b3a291-ccccc',
      'web-5c4b3a291',
      'ReplicaSet',
      ['app=web', 'tier=frontend', 'pod-template-hash=5c4b3a291'],
      T0 + 60_000,
    ),
    podRow('shop', 'api-0', 'api', 'StatefulSet', ['app=api', 'tier=backend']),
    podRow('shop', 'db-0', 'db', 'StatefulSet', ['app=db', 'tier=db']),
    podRow('infra', 'coredns-1', 'coredns', 'Deployment', ['k8s-app=kube-dns']),
    otherRow(ID.world, 'reserved', 'world'),
    otherRow(ID.stripe, 'fqdn', 'api.stripe.com'),
  ];
  const calls = [
    callRow(ID.webA, ID.api, 8080, 'TCP', 'FORWARDED', {
      flows: 10,
      requests: 5,
      responses: 5,
      errors: 1,
      l7Protocols: ['HTTP/1.1'],
      statusCounts: { '200': 4, '500': 1 },
      methodCounts: { GET: 5 },
      latencyCount: 5,
      latencySumMs: 50,
      latencyMaxMs: 20,
    }),
    callRow(ID.webB, ID.api, 8080, 'TCP', 'FORWARDED', {
      flows: 6,
      requests: 3,
      responses: 3,
      statusCounts: { '200': 3 },
      l7Protocols: ['HTTP/1.1'],
    }),
    callRow(ID.webC, ID.api, 8080, 'TCP', 'FORWARDED', {
      flows: 4,
      requests: 2,
      responses: 2,
      errors: 2,
      statusCounts: { '503': 2 },
      l7Protocols: ['HTTP/1.1'],
      lastSeenMs: T0 + 60_000,
    }),
    callRow(ID.api, ID.db, 5432, 'TCP', 'FORWARDED', { flows: 20, connections: 4 }),
    callRow(ID.api, ID.db, 5432, 'TCP', 'DROPPED', { flows: 3, dropReasons: { POLICY_DENIED: 3 } }),
    callRow(ID.api, ID.dns, 53, 'UDP', 'FORWARDED', {
      flows: 8,
      requests: 4,
      responses: 4,
      rcodeCounts: { '0': 4 },
      l7Protocols: ['DNS'],
      dnsQueries: ['api.stripe.com.'],
    }),
    callRow(ID.webA, ID.db, 5432, 'TCP', 'DROPPED', { flows: 2, dropReasons: { POLICY_DENIED: 2 } }),
    callRow(ID.api, ID.stripe, 443, 'TCP', 'FORWARDED', { flows: 5, connections: 1 }),
    callRow(ID.world, ID.webA, 80, 'TCP', 'FORWARDED', {
      flows: 7,
      requests: 7,
      responses: 7,
      statusCounts: { '200': 7 },
      l7Protocols: ['HTTP/1.1'],
    }),
  ];
  return { endpoints, calls, maxFlowTimeMs: T0 + 60_000 };
}

let batchSeq = 0;

/** Writes a batch through the collector's writer (which stamps the change feed). */
export async function writeBatch(executor: Executor, batch: IngestBatch, collectorState: Record<string, unknown> = {}): Promise<number> {
  batchSeq += 1;
  const res = await writeIngestBatch(executor, batch, { collectorId: 'test-collector', runId: 'api-tests', batchSeq, collectorState });
  return res.seq;
}

export async function countGraph(executor: Executor): Promise<{ nodes: number; rels: number }> {
  return readOneRow<{ nodes: number; rels: number }>(
    executor,
    'CALL { MATCH (n) RETURN count(n) AS nodes } CALL { MATCH ()-[r]->() RETURN count(r) AS rels } RETURN nodes, rels',
  );
}
