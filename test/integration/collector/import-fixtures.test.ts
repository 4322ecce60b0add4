import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Executor } from '../../../src/graph/executor';
import { runCli } from '../../helpers/cli';
import { resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble');

interface EdgeRow {
  flows: number;
  connections: number;
  requests: number;
  responses: number;
  errors: number;
  s503: number | null;
  rcode3: number | null;
  p50: number | null;
  dnsQueries: string[] | null;
  protocols: string[] | null;
}

const EDGE = `
MATCH (a:Endpoint {id: $src})-[r:CALLS {port: $port, protocol: $protocol, verdict: 'FORWARDED'}]->(b:Endpoint {id: $dst})
RETURN r.flows AS flows, r.connections AS connections, r.requests AS requests, r.responses AS responses, r.errors AS errors,
       r.status_503 AS s503, r.rcode_3 AS rcode3, r.latencyP50Ms AS p50, r.dnsQueries AS dnsQueries, r.l7Protocols AS protocols`;

/** `hubble-graph import` of each recorded fixture, checked edge by edge against what the flows say. */
describe('import of recorded Hubble flows (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => resetGraph(executor));
  afterAll(async () => executor.close());

  const importFile = async (file: string) => {
    const res = await runCli(['import', path.join(FIXTURES, file)], testEnv());
    expect(res.code).toBe(0);
    return JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as {
      linesRead: number;
      flowsIngested: number;
      skipped: Record<string, number>;
    };
  };
  const edge = async (src: string, dst: string, port: number, protocol = 'TCP') => {
    const rows = await executor.read<EdgeRow>(EDGE, { src, dst, port, protocol });
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };

  it("keeps the HTTP method and path pattern of each request on its edge: bookinfo's 9 GET /details/0 become GET /details/* x9 (400 tcp flows)", async () => {
    await importFile('basic-sample-400-tcp-flows.json');
    const rows = await executor.read<{ paths: string[]; counts: number[]; overflow: number; gets: number }>(
      `MATCH (:Endpoint {id: 'bookinfo/productpage-v1-6b746f74dc-9rcxx'})-[r:CALLS {port: 9080, verdict: 'FORWARDED'}]->(:Endpoint {id: 'bookinfo/details-v1-79f774bdb9-m4j4k'})
       RETURN r.httpPaths AS paths, r.httpPathCounts AS counts, r.httpPathsOverflow AS overflow, r.method_GET AS gets`,
    );
    // 9 requests and their 9 responses, each exchange with its own X-Request-Id: 9 attempts.
    expect(rows).toEqual([{ paths: ['GET /details/*'], counts: [9], overflow: 0, gets: 9 }]);
  });

  it('counts HTTP requests, 503 responses and latency on the client->server edge (5 http flows)', async () => {
    const summary = await importFile('basic-sample-5-http-flows.json');
    expect(summary).toMatchObject({ linesRead: 5, flowsIngested: 5, skipped: {} });
    const e = await edge('istio-system/prometheus-6655946b9f-6xcpf', 'kube-system/node-local-dns-r99x7', 9253);
    expect(e).toMatchObject({ requests: 1, responses: 1, errors: 1, s503: 1 });
    // latency_ns 999958359 -> about 1000 ms (the sketch is accurate to 1%).
    expect(e.p50).toBeGreaterThan(990);
    expect(e.p50).toBeLessThan(1010);
    // The response from node-local-dns-6jnx9 belongs to prometheus -> node-local-dns-6jnx9:9253.
    const other = await edge('istio-system/prometheus-6655946b9f-6xcpf', 'kube-system/node-local-dns-6jnx9', 9253);
    expect(other).toMatchObject({ responses: 1, s503: 1 });
    const reversed = await executor.read('MATCH (:Endpoint {id: "kube-system/node-local-dns-r99x7"})-[r:CALLS]->() RETURN r');
    expect(reversed).toHaveLength(0);
  });

  it('counts DNS queries and NXDOMAIN answers (5 dns flows)', async () => {
    await importFile('basic-sample-5-dns-flows.json');
    const e = await edge('kube-system/node-local-dns-88zrp', 'kube-system/kube-dns-b4f5c58c7-vnx5s', 53);
    expect(e).toMatchObject({ flows: 5, requests: 3, responses: 2, rcode3: 2, errors: 2 });
    expect(e.protocols).toEqual(['DNS']);
    expect(e.dnsQueries).toHaveLength(3);
  });

  it('orients older-Cilium flows without is_reply by the reply flag and TCP flags (10 flows)', async () => {
    await importFile('basic-sample-10-flows.json');
    expect((await edge('reserved:host', 'bookinfo/reviews-v1-545db77b95-s6jb8', 15020)).flows).toBe(2);
    expect((await edge('istio-system/prometheus-6655946b9f-hx9ln', 'bookinfo/reviews-v1-545db77b95-s6jb8', 15090)).flows).toBe(2);
    expect((await edge('istio-system/istio-telemetry-85cf8ddf5f-kw64q', 'istio-system/istio-galley-7994d74d58-s2pwm', 9901)).flows).toBe(2);
    expect((await edge('kube-system/event-exporter-gke-67986489c8-svnrf', 'reserved:world', 443)).flows).toBe(2);
    expect(await edge('reserved:host', 'kube-system/kube-dns-6c7b8dc9f9-gnxh2', 10054)).toMatchObject({ flows: 2, connections: 1 });
    const total = await executor.read<{ n: number }>('MATCH ()-[r:CALLS]->() RETURN sum(r.flows) AS n');
    expect(total[0]!.n).toBe(10);
  });

  it('ingests every flow of the larger captures and skips none', async () => {
    for (const file of ['basic-sample-400-tcp-flows.json', 'basic-sample-400-udp-flows.json', 'basic-sample-400-icmpv4-flows.json']) {
      await resetGraph(executor);
      const summary = await importFile(file);
      expect(summary.skipped).toEqual({});
      const total = await executor.read<{ n: number }>('MATCH ()-[r:CALLS]->() RETURN sum(r.flows) AS n');
      expect(total[0]!.n).toBe(summary.flowsIngested);
      expect(summary.flowsIngested).toBe(summary.linesRead);
    }
  });

  it('counts a malformed line by reason and keeps everything else', async () => {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hg-import-')), 'mixed.json');
    const good = fs.readFileSync(path.join(FIXTURES, 'basic-sample-5-http-flows.json'), 'utf8').trim().split('\n');
    fs.writeFileSync(tmp, [good[0], '{"flow": {"time": ', good[1], 'not json', good[2]].join('\n') + '\n');
    const res = await runCli(['import', tmp], testEnv());
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout.trim());
    expect(summary.flowsIngested).toBe(3);
    expect(summary.skipped.malformed_json).toBe(2);
  });
});
