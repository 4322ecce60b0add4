import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { type BucketSpec, parseBucketSpec } from '../../../src/model/time-buckets';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { runCli } from '../../helpers/cli';
import { resetGraph, testConfig, testEnv, testExecutor } from '../../helpers/neo4j';
import { type TimedExchange, expectedTotals, flowsOf, keyOf, podEndpoint } from '../../helpers/timed-flows';
import { gql } from '../api/gql-client';

const MIN = 60_000;
const DAY = 86_400_000;
const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
const NOW = Date.now();

const web = podEndpoint('shop', 'web-1', 'web');
const api = podEndpoint('shop', 'api-1', 'api');
const legacyDb = podEndpoint('shop', 'legacy-db-1', 'legacy-db');

/** web calls api on 8080 now (40 requests in the last 30 minutes) and called legacy-db on 5432 three days ago (12 connections), then stopped. */
const recentHttp: TimedExchange[] = Array.from({ length: 40 }, (_, i) => ({
  kind: 'http',
  client: web,
  server: api,
  port: 8080,
  atMs: NOW - 30 * MIN + i * 30_000,
  code: 200,
  latencyMs: 5,
}));
const oldTcp: TimedExchange[] = Array.from({ length: 12 }, (_, i) => ({
  kind: 'tcp',
  client: web,
  server: legacyDb,
  port: 5432,
  atMs: NOW - 3 * DAY + i * MIN,
}));
/** Drops: 7 POLICY_DENIED in the last 30 minutes, 5 CT_MAP_INSERTION_FAILED three days ago. */
const recentDrops: TimedExchange[] = Array.from({ length: 7 }, (_, i) => ({
  kind: 'drop',
  client: web,
  server: legacyDb,
  port: 6379,
  atMs: NOW - 20 * MIN + i * MIN,
  reason: 'POLICY_DENIED',
}));
const oldDrops: TimedExchange[] = Array.from({ length: 5 }, (_, i) => ({
  kind: 'drop',
  client: api,
  server: legacyDb,
  port: 6379,
  atMs: NOW - 3 * DAY + i * MIN,
  reason: 'CT_MAP_INSERTION_FAILED',
}));

/** Policies of shop: legacy-db admits only an admin workload; api admits web on 8080. */
const ONLY_API = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: legacy-db-admin-only, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: legacy-db}}
  ingress:
    - fromEndpoints: [{matchLabels: {app: admin}}]
      toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
    - fromEndpoints: [{matchLabels: {app: web}}]
      toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
`;

interface Drafts {
  yaml: string;
  policies: { workload: string; yaml: string }[];
  range: { since: string; until: string; bucketSeconds: number } | null;
}

describe('network policy and drop reasons of a time range (real Neo4j)', () => {
  let executor: Executor;
  let server: ApiServer;
  let dir: string;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    const agg = new EdgeAggregator({ buckets: SPEC });
    for (const x of [...recentHttp, ...oldTcp, ...recentDrops, ...oldDrops]) for (const f of flowsOf(x)) expect(agg.add(f)).toBeUndefined();
    await writeIngestBatch(executor, agg.drain(), { collectorId: 'policy-range-test', runId: 'run', batchSeq: 1 });
    server = await startApiServer(testConfig({ HG_API_PORT: '0', HG_BUCKETS: '1m:48h,1h:30d' }), silentLogger(), { executor });
    dir = await mkdtemp(path.join(os.tmpdir(), 'hg-policy-range-'));
    await writeFile(path.join(dir, 'only-api.yaml'), ONLY_API);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await executor?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function drafts(range?: { since: string }): Promise<Drafts> {
    const res = await gql(
      server.url,
      'query($r: TimeRange) { networkPolicies(scope: {namespace: "shop", workload: "legacy-db"}, format: CILIUM, range: $r) { yaml policies { workload yaml } range { since until bucketSeconds } } }',
      { r: range ?? null },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.networkPolicies as Drafts;
  }

  it('drafts from all time without a range: legacy-db still admits web on 5432', async () => {
    const all = await drafts();
    expect(all.range).toBeNull();
    expect(all.policies.map((p) => p.workload)).toEqual(['shop/legacy-db']);
    expect(all.yaml).toMatch(/port: "5432"/);
  });

  it('drafts from the last hour only: legacy-db, not called in it, gets no allow rule for web, and the answer says what it covered', async () => {
    const askedMs = Date.now();
    const lastHour = await drafts({ since: '-1h' });
    expect(lastHour.yaml).not.toMatch(/port: "5432"/);
    // Widened to whole minutes: from the minute an hour before the request.
    expect(lastHour.range!.bucketSeconds).toBe(60);
    expect(Date.parse(lastHour.range!.since)).toBeLessThanOrEqual(Date.now() - 3_600_000);
    expect(Date.parse(lastHour.range!.since)).toBeGreaterThan(askedMs - 3_600_000 - MIN);
    // The workload that is called in the range is drafted with what it was called for.
    const api = await gql(
      server.url,
      '{ networkPolicies(scope: {namespace: "shop", workload: "api"}, format: CILIUM, range: {since: "-1h"}) { yaml } }',
    );
    expect(api.data!.networkPolicies.yaml).toMatch(/port: "8080"/);
  });

  it('checks a policy against the traffic of a range: what stopped before it is not reported as denied', async () => {
    const check = (range?: { since: string }) =>
      gql(
        server.url,
        'query($y: String!, $r: TimeRange) { policyCheck(yaml: $y, range: $r) { checked allowed denied summary edges { verdict flows } range { bucketSeconds } } }',
        {
          y: ONLY_API,
          r: range ?? null,
        },
      );
    const all = await check();
    expect(all.errors).toBeUndefined();
    expect(all.data!.policyCheck).toMatchObject({ checked: 2, allowed: 1, denied: 1, range: null });
    expect(all.data!.policyCheck.summary.join('\n')).toMatch(/legacy-db/);
    const lastHour = await check({ since: '-1h' });
    expect(lastHour.errors).toBeUndefined();
    expect(lastHour.data!.policyCheck).toMatchObject({ checked: 1, allowed: 1, denied: 0, summary: [], range: { bucketSeconds: 60 } });
    // Counts within the range: the flows of the last 30 minutes' requests (all of the edge's flows).
    expect(lastHour.data!.policyCheck.edges).toEqual([
      { verdict: 'ALLOWED', flows: expectedTotals(recentHttp).get(keyOf(recentHttp[0]!))!.flows },
    ]);
    // A policy that would drop web -> api says so for the range, naming it.
    const denyWeb = ONLY_API.replace('{matchLabels: {app: web}}', '{matchLabels: {app: admin}}');
    const denied = await gql(
      server.url,
      'query($y: String!) { policyCheck(yaml: $y, range: {since: "-1h"}) { denied summary range { since until } } }',
      { y: denyWeb },
    );
    const { since, until } = denied.data!.policyCheck.range;
    expect(denied.data!.policyCheck.denied).toBe(1);
    expect(denied.data!.policyCheck.summary).toHaveLength(1);
    expect(denied.data!.policyCheck.summary[0]).toBe(
      `applying this would have dropped ${recentHttp.length} requests from shop/web to shop/api:8080/TCP between ${since} and ${until} (last seen ${/\(last seen (\S+)\)$/.exec(denied.data!.policyCheck.summary[0])?.[1]})`,
    );
    expect(Date.parse(since)).toBeLessThan(recentHttp[0]!.atMs);
  });

  it('sums drop reasons within a range', async () => {
    const q = 'query($r: TimeRange) { dropReasons(range: $r) { reason total calls } }';
    const all = await gql(server.url, q, { r: null });
    expect(all.data!.dropReasons).toEqual([
      { reason: 'POLICY_DENIED', total: 7, calls: 1 },
      { reason: 'CT_MAP_INSERTION_FAILED', total: 5, calls: 1 },
    ]);
    const lastHour = await gql(server.url, q, { r: { since: '-1h' } });
    expect(lastHour.data!.dropReasons).toEqual([{ reason: 'POLICY_DENIED', total: 7, calls: 1 }]);
    const threeDaysAgo = await gql(server.url, q, {
      r: { since: new Date(NOW - 3 * DAY - 3_600_000).toISOString(), until: new Date(NOW - 2 * DAY).toISOString() },
    });
    expect(threeDaysAgo.data!.dropReasons).toEqual([{ reason: 'CT_MAP_INSERTION_FAILED', total: 5, calls: 1 }]);
  });

  it('refuses a range it cannot read and names the argument', async () => {
    const res = await gql(server.url, '{ networkPolicies(range: {since: "yesterday"}) { yaml } }');
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/range\.since.*"yesterday"/);
  });

  it('takes --since/--until in the CLI: export and check of the last hour', async () => {
    const env = testEnv({ HG_BUCKETS: '1m:48h,1h:30d' });
    const exportAll = await runCli(['policy', 'export', '--namespace', 'shop', '--workload', 'legacy-db', '--format', 'cilium'], env);
    expect(exportAll.code).toBe(0);
    expect(exportAll.stdout).toMatch(/port: "5432"/);
    const exportRecent = await runCli(
      ['policy', 'export', '--namespace', 'shop', '--workload', 'api', '--format', 'cilium', '--since', '-1h'],
      env,
    );
    expect(exportRecent.code).toBe(0);
    expect(exportRecent.stdout).toMatch(/port: "8080"/);
    const checkAll = await runCli(['policy', 'check', path.join(dir, 'only-api.yaml')], env);
    expect(checkAll.code).toBe(2);
    const checkRecent = await runCli(['policy', 'check', path.join(dir, 'only-api.yaml'), '--since', '-1h', '--until', 'now'], env);
    expect(checkRecent.stdout).toMatch(/1 observed edges checked \(FORWARDED\): 1 allowed, 0 denied/);
    expect(checkRecent.code).toBe(0);
    const bad = await runCli(['policy', 'export', '--since', 'yesterday'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--since: .*"yesterday"/);
  }, 180_000);
});
