import fs from 'node:fs';
import path from 'node:path';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { parseBucketSpec, type BucketSpec } from '../../../src/model/time-buckets';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { resetGraph, testExecutor } from '../../helpers/neo4j';
import { flowsOf, keyOf, podEndpoint, type TimedExchange } from '../../helpers/timed-flows';

const README = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');

/** The Cypher block of the README that follows `<!-- cypher:NAME -->`. */
function readmeCypher(name: string): string {
  const m = new RegExp(`<!-- cypher:${name} -->\\n\`\`\`cypher\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!m) throw new Error(`README has no cypher block ${name}`);
  return m[1]!;
}

const web = podEndpoint('shop', 'web-1', 'web');
const api = podEndpoint('shop', 'api-1', 'api');
const db = podEndpoint('shop', 'db-1', 'db');
const cache = podEndpoint('shop', 'cache-1', 'cache');

describe("the README's Cypher over activity buckets (real Neo4j)", () => {
  let executor: Executor;
  let seq = 0;
  const write = async (exchanges: TimedExchange[]) => {
    const agg = new EdgeAggregator({ buckets: parseBucketSpec('1m:48h,1h:30d') as BucketSpec });
    for (const x of exchanges) for (const f of flowsOf(x)) agg.add(f);
    await writeIngestBatch(executor, agg.drain(), { collectorId: 'readme-cypher', runId: 'r', batchSeq: ++seq });
  };

  beforeAll(async () => {
    executor = testExecutor();
  });
  beforeEach(async () => resetGraph(executor));
  afterAll(async () => executor.close());

  it('draws the map of the last 15 minutes with the flows of that time only', async () => {
    const now = Date.now();
    await write([
      { kind: 'tcp', client: web, server: api, port: 80, atMs: now - 5 * 60_000 },
      { kind: 'tcp', client: web, server: api, port: 80, atMs: now - 40 * 60_000 },
      { kind: 'http', client: api, server: db, port: 5432, atMs: now - 2 * 60_000, code: 503, latencyMs: 3 },
      { kind: 'tcp', client: api, server: cache, port: 6379, atMs: now - 50 * 60_000 },
    ]);
    const rows = await executor.read<{ a: { id: string }; b: { id: string }; flows: number; errors: number }>(
      readmeCypher('last-15-minutes').replace('RETURN a, r, b,', 'RETURN a {.id}, b {.id},'),
    );
    expect(rows.map((r) => [r.a.id, r.b.id, r.flows, r.errors])).toEqual([
      ['shop/api-1', 'shop/db-1', 2, 1],
      ['shop/web-1', 'shop/api-1', 1, 0],
    ]);
  });

  it('lists the calls that appeared since the deploy and not those active the hour before', async () => {
    // The README's deploy: the start of the minute half an hour ago.
    const deploy = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000;
    const before: TimedExchange = { kind: 'tcp', client: web, server: api, port: 8080, atMs: deploy - 30 * 60_000 };
    const again: TimedExchange = { ...before, atMs: deploy + 10 * 60_000 };
    const fresh: TimedExchange = { kind: 'tcp', client: api, server: cache, port: 11211, atMs: deploy + 5 * 60_000 };
    await write([before, again, fresh]);
    const rows = await executor.read<{ key: string }>(readmeCypher('appeared-since').replace('RETURN a, r, b', 'RETURN r.key AS key'));
    expect(rows.map((r) => r.key)).toEqual([keyOf(fresh)]);
  });
  it('lists the workloads calling shop/checkout in the last hour from hour roll-ups', async () => {
    const now = Date.now();
    const checkout = podEndpoint('shop', 'checkout-1', 'checkout');
    const web2 = podEndpoint('shop', 'web-2', 'web');
    await write([
      { kind: 'http', client: web, server: checkout, port: 8080, atMs: now - 60_000, code: 200, latencyMs: 3 },
      { kind: 'http', client: web2, server: checkout, port: 8080, atMs: now - 60_000, code: 503, latencyMs: 3 },
      { kind: 'http', client: api, server: checkout, port: 8080, atMs: now - 60_000, code: 200, latencyMs: 3 },
      { kind: 'http', client: api, server: checkout, port: 8080, atMs: now - 3 * 3_600_000, code: 200, latencyMs: 3 },
    ]);
    const rows = await executor.read<{ caller: string; requests: number; errors: number }>(readmeCypher('rollup-callers'));
    expect(rows.map((r) => [r.caller, r.requests, r.errors])).toEqual([
      ['shop/web', 2, 1],
      ['shop/api', 1, 0],
    ]);
  });
});
