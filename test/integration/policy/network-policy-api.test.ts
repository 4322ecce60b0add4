import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { checkFlow } from '../../../src/flows/check-flow';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import type { Flow } from '../../../src/flows/flow';
import os from 'node:os';
import path from 'node:path';
import { type ApiServer, startApiServer } from '../../../src/api/start-api-server';
import type { Executor } from '../../../src/graph/executor';
import { silentLogger } from '../../../src/logger';
import { parsePolicyDocuments } from '../../../src/policy/parse-policy-documents';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../helpers/cli';
import { resetGraph, testConfig, testEnv, testExecutor } from '../../helpers/neo4j';
import { gql } from '../api/gql-client';
import { callRow, otherRow, podRow, writeBatch } from '../api/seed-graph';
import { toSchemaErrors } from '../../unit/policy/policy-schemas';

const FIXTURE = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble', 'basic-sample-400-tcp-flows.json');
const PRODUCTPAGE = 'bookinfo/productpage-v1-6b746f74dc-9rcxx';
const DETAILS = 'bookinfo/details-v1-79f774bdb9-m4j4k';
const REVIEWS_V2 = 'bookinfo/reviews-v2-7bf8c9648f-r7bs2';
/** Envoy's upstream connections leave from this address with productpage's identity but no pod name: an `ip:` endpoint. */
const ENVOY_IP = 'ip:10.244.0.148';

/**
 * A hand-written policy set whose verdicts on the bookinfo capture are worked out below by hand:
 * - details only lets reviews in on 9080: productpage (9 GET /details/0 requests) and the `ip:` end
 *   of Envoy's connections (27 flows, no SYN seen) are denied; details' egress is not restricted.
 * - reviews-v2 lets productpage in with HTTP GET /ratings/... only: the connection passes but its 5
 *   GET /reviews/0 requests are refused (partial); the `ip:` end is denied; the local host's
 *   health checks pass (allow-localhost).
 */
const HAND_WRITTEN = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: details-from-reviews, namespace: bookinfo}
spec:
  endpointSelector: {matchLabels: {app: details}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: reviews}}]
    toPorts: [{ports: [{port: "9080", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: reviews-v2-ratings-paths, namespace: bookinfo}
spec:
  endpointSelector: {matchLabels: {app: reviews, version: v2}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: productpage}}]
    toPorts:
    - ports: [{port: "9080", protocol: TCP}]
      rules:
        http: [{method: GET, path: "/ratings/[0-9]+"}]
`;

const CHECK = `query($yaml: String!) { policyCheck(yaml: $yaml, first: 500) {
  summary checked allowed denied partial skipped warnings
  impacts { from to port protocol verdict edges flows requests calls callUnit lastSeen refused sentence }
  edges { key source destination verdict deniedFlows deniedRequests refused egress { outcome } ingress { outcome allowedBy reason } }
} }`;

describe('network policy through GraphQL and the CLI, on a real capture imported into Neo4j', () => {
  let executor: Executor;
  let server: ApiServer;
  let dir: string;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    // The ingest path in process (check, aggregate, write): the CLI's import of the same capture is
    // tested in test/integration/collector/import-fixtures.test.ts.
    const aggregator = new EdgeAggregator();
    for (const line of (await readFile(FIXTURE, 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      const parsed = JSON.parse(line) as { flow?: Flow } & Flow;
      const flow = parsed.flow ?? parsed;
      if (checkFlow(flow) === undefined) aggregator.add(flow);
    }
    await writeBatch(executor, aggregator.drain());
    // Two drops of another namespace, with reasons (the capture has none).
    await writeBatch(executor, {
      endpoints: [
        podRow('lab', 'a-0', 'a', 'StatefulSet', ['app=a']),
        podRow('lab', 'b-0', 'b', 'StatefulSet', ['app=b']),
        otherRow('reserved:world', 'reserved', 'world'),
      ],
      calls: [
        callRow('lab/a-0', 'lab/b-0', 5432, 'TCP', 'DROPPED', { flows: 4, dropReasons: { POLICY_DENIED: 3, CT_MAP_INSERTION_FAILED: 1 } }),
        callRow('reserved:world', 'lab/b-0', 443, 'TCP', 'DROPPED', { flows: 2, dropReasons: { POLICY_DENIED: 2 } }),
      ],
      maxFlowTimeMs: 0,
    });
    server = await startApiServer(testConfig({ HG_API_PORT: '0' }), silentLogger(), { executor });
    dir = await mkdtemp(path.join(os.tmpdir(), 'hg-policy-'));
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await executor?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const q = (query: string, variables: Record<string, unknown> = {}) => gql(server.url, query, variables);

  it('shows the HTTP method+path patterns of a call with their counts (Call.httpPaths)', async () => {
    const res = await q(
      'query($s: ID, $d: ID) { calls(filter: {source: $s, destination: $d, verdicts: ["FORWARDED"]}) { nodes { requests httpPaths { paths { method pattern count } overflowRequests } } } }',
      {
        s: PRODUCTPAGE,
        d: DETAILS,
      },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.calls.nodes).toEqual([
      { requests: 9, httpPaths: { paths: [{ method: 'GET', pattern: '/details/*', count: 9 }], overflowRequests: 0 } },
    ]);
  });

  it('drafts Cilium policies for a namespace that validate against the CRD schema, with the observed HTTP paths, byte for byte the same as `policy export`', async () => {
    const res = await q(
      '{ networkPolicies(scope: {namespace: "bookinfo"}, format: CILIUM) { yaml warnings policies { kind namespace name workload yaml manifest } } }',
    );
    expect(res.errors).toBeUndefined();
    const drafts = res.data!.networkPolicies;
    const workloads = drafts.policies.map((p: { workload: string }) => p.workload);
    // Every bookinfo pod seen in FORWARDED traffic (the capture names no owners: each pod is its own workload).
    expect(workloads).toEqual(expect.arrayContaining([PRODUCTPAGE, DETAILS, REVIEWS_V2]));
    for (const p of drafts.policies) {
      expect([p.kind, p.namespace, toSchemaErrors(p.manifest)]).toEqual(['CiliumNetworkPolicy', 'bookinfo', []]);
      expect(parseYaml(p.yaml)).toEqual(p.manifest);
    }
    const details = drafts.policies.find((p: { workload: string }) => p.workload === DETAILS);
    expect(JSON.stringify(details.manifest)).toContain('{"http":[{"method":"GET","path":"/details/[^/]+"}]}');
    expect(parsePolicyDocuments(drafts.yaml).policies).toHaveLength(drafts.policies.length);

    const cli = await runCli(['policy', 'export', '--namespace', 'bookinfo', '--format', 'cilium'], testEnv());
    expect(cli.code).toBe(0);
    expect(cli.stdout).toBe(drafts.yaml);
  });

  it('drafts the policy of one workload, and refuses a workload without its namespace naming the argument', async () => {
    const one = await q(
      'query($w: String) { networkPolicies(scope: {namespace: "bookinfo", workload: $w}) { policies { kind workload } } }',
      { w: 'details-v1-79f774bdb9-m4j4k' },
    );
    expect(one.errors).toBeUndefined();
    expect(one.data!.networkPolicies.policies).toEqual([
      { kind: 'CiliumNetworkPolicy', workload: DETAILS },
      { kind: 'NetworkPolicy', workload: DETAILS },
    ]);
    const bad = await q('{ networkPolicies(scope: {workload: "details"}) { yaml } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/^scope\.workload: "details" needs scope\.namespace/);
  });

  it('checks a hand-written policy set: denied and partly refused calls with counts and last seen, and one sentence per group', async () => {
    const res = await q(CHECK, { yaml: HAND_WRITTEN });
    expect(res.errors).toBeUndefined();
    const check = res.data!.policyCheck;
    const notAllowed = check.edges.filter((e: { verdict: string }) => e.verdict !== 'ALLOWED');
    expect(notAllowed.map((e: { key: string; verdict: string }) => [e.key, e.verdict])).toEqual([
      [`${PRODUCTPAGE}|${DETAILS}|9080|TCP|FORWARDED`, 'DENIED'],
      [`${ENVOY_IP}|${DETAILS}|9080|TCP|FORWARDED`, 'DENIED'],
      [`${ENVOY_IP}|${REVIEWS_V2}|9080|TCP|FORWARDED`, 'DENIED'],
      [`${PRODUCTPAGE}|${REVIEWS_V2}|9080|TCP|FORWARDED`, 'PARTIAL'],
    ]);
    expect(check).toMatchObject({ denied: 3, partial: 1, allowed: check.checked - 4, warnings: [] });
    const partial = notAllowed[3];
    expect(partial).toMatchObject({ deniedRequests: 5, refused: ['GET /reviews/*'] });
    expect(partial.ingress.allowedBy).toEqual(['CiliumNetworkPolicy bookinfo/reviews-v2-ratings-paths spec.ingress[0] (yaml document 2)']);
    const fromProductpage = check.impacts.find((g: { from: string; to: string }) => g.from === PRODUCTPAGE && g.to === DETAILS);
    expect(fromProductpage).toMatchObject({ verdict: 'DENIED', calls: 9, callUnit: 'requests', port: 9080, protocol: 'TCP' });
    expect(fromProductpage.sentence).toBe(
      `applying this would have dropped 9 requests from ${PRODUCTPAGE} to ${DETAILS}:9080/TCP (last seen ${fromProductpage.lastSeen})`,
    );
    expect(check.summary).toContain(fromProductpage.sentence);
    const fromEnvoy = check.impacts.find((g: { from: string; to: string }) => g.from === ENVOY_IP && g.to === DETAILS);
    expect(fromEnvoy).toMatchObject({ verdict: 'DENIED', calls: 27, callUnit: 'flows' });
    // The local host's health checks of reviews-v2 still pass.
    const probe = check.edges.find(
      (e: { source: string; destination: string }) => e.source === 'reserved:host' && e.destination === REVIEWS_V2,
    );
    expect(probe).toMatchObject({ verdict: 'ALLOWED', ingress: { outcome: 'allow-localhost' } });
  });

  it('refuses policy YAML it cannot read with an error naming the document and the field', async () => {
    const res = await q(CHECK, { yaml: HAND_WRITTEN.replace('protocol: TCP}]}]', 'protocol: HTTP}]}]') });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain(
      'yaml: yaml document 1 (CiliumNetworkPolicy bookinfo/details-from-reviews) spec.ingress[0].toPorts[0].ports[0].protocol',
    );
  });

  it('`policy check FILE` prints the sentences and exits 2 when observed traffic would be dropped, 0 when the exported drafts allow it all', async () => {
    const handWritten = path.join(dir, 'hand-written.yaml');
    await writeFile(handWritten, HAND_WRITTEN);
    const denied = await runCli(['policy', 'check', handWritten], testEnv());
    expect(denied.code).toBe(2);
    expect(denied.stdout).toContain(`applying this would have dropped 9 requests from ${PRODUCTPAGE} to ${DETAILS}:9080/TCP`);
    expect(denied.stdout).toMatch(/observed edges checked \(FORWARDED\): \d+ allowed, 3 denied, 1 partly refused/);

    const exported = await runCli(['policy', 'export'], testEnv());
    expect(exported.code).toBe(0);
    const drafts = path.join(dir, 'drafts.yaml');
    await writeFile(drafts, exported.stdout);
    const ok = await runCli(['policy', 'check', drafts, '--json'], testEnv());
    expect(ok.code).toBe(0);
    const result = JSON.parse(ok.stdout);
    expect(result).toMatchObject({ denied: 0, partial: 0, summary: [] });
    expect(result.allowed).toBe(result.checked);
    expect(result.checked).toBeGreaterThan(10);
  });

  it('names the missing file of `policy check` and exits 1', async () => {
    const res = await runCli(['policy', 'check', path.join(dir, 'nope.yaml')], testEnv());
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`cannot read policy file ${path.join(dir, 'nope.yaml')}`);
  });

  it('sums dropped traffic by drop reason (dropReasons), with a reason filter', async () => {
    const res = await q(
      '{ all: dropReasons { reason total calls lastSeen } ct: dropReasons(filter: {reasons: ["CT_MAP_INSERTION_FAILED"]}) { reason total calls } }',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.all).toEqual([
      { reason: 'POLICY_DENIED', total: 5, calls: 2, lastSeen: expect.any(String) },
      { reason: 'CT_MAP_INSERTION_FAILED', total: 1, calls: 1, lastSeen: expect.any(String) },
    ]);
    expect(res.data!.ct).toEqual([{ reason: 'CT_MAP_INSERTION_FAILED', total: 1, calls: 1 }]);
  });
});
