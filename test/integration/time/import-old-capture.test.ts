import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Executor } from '../../../src/graph/executor';
import { runCli } from '../../helpers/cli';
import { resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';
import { expectedBuckets, flowsOf, randomExchanges } from '../../helpers/timed-flows';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('import of a capture from days ago (real Neo4j, the CLI)', () => {
  let executor: Executor;
  let dir: string;
  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-old-capture-'));
  });
  afterAll(async () => {
    await executor.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports a jsonpb capture of 4 days ago with the default settings and puts every flow in the hour and minute it was dated', async () => {
    const exchanges = randomExchanges(21, Date.now() - 4 * DAY, 90 * MIN, 200);
    const file = path.join(dir, 'capture.json');
    const lines = exchanges.flatMap(flowsOf).map((flow) => JSON.stringify({ flow, node_name: flow.node_name, time: flow.time }));
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const res = await runCli(['import', '--no-progress', file], testEnv({ HG_COLLECTOR_ID: 'old-capture' }));
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(summary.flowsIngested).toBe(lines.length);

    const stored = async (size: number) => {
      const rows = await executor.read<{ id: string; flows: number; requests: number; errors: number }>(
        'MATCH (a:Activity {size: $size}) RETURN a.key + "@" + toString(a.start.epochMillis) AS id, a.flows AS flows, a.requests AS requests, a.errors AS errors',
        { size },
      );
      return new Map(rows.map((r) => [r.id, { flows: r.flows, requests: r.requests, errors: r.errors }]));
    };
    const expected = (size: number) =>
      new Map([...expectedBuckets(exchanges, size)].map(([id, b]) => [id, { flows: b.flows, requests: b.requests, errors: b.errors }]));
    expect(await stored(3600)).toEqual(expected(HOUR));
    // Minutes older than their 48 h are still there until a collector's expiry pass removes them.
    expect(await stored(60)).toEqual(expected(MIN));
  });
});
