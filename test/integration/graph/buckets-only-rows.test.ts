import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { type ActivityRow, type CallRow, emptyCallCounts } from '../../../src/model/ingest-rows';
import { ROW_TIME, podRow, tcpCallRow } from '../../helpers/ingest-rows';
import { readOneRow, resetGraph, testExecutor } from '../../helpers/neo4j';

const MIN = 60_000;
const HOUR = 3_600_000;

/** Counts of one bucket of `sizeMs` at ROW_TIME. */
function bucket(sizeMs: number, flows: number): ActivityRow {
  return { ...emptyCallCounts(ROW_TIME), flows, connections: flows, sizeMs, startMs: ROW_TIME };
}

/**
 * A bucket held by the collector until it closed goes out alone, after its call's totals went out
 * with an earlier batch (src/flows/activity-hold.ts): the writer adds it to the Activity node and the
 * bucket's roll-ups, and leaves the call and the all-time roll-ups as they are.
 */
describe('writing a bucketsOnly row (real Neo4j)', () => {
  let executor: Executor;
  let seq = 0;

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
  });
  afterAll(async () => executor.close());

  const write = (calls: CallRow[]) =>
    writeIngestBatch(
      executor,
      { endpoints: [podRow('shop/web'), podRow('shop/db')], calls, maxFlowTimeMs: ROW_TIME },
      {
        collectorId: 'buckets-only',
        runId: 'r',
        batchSeq: ++seq,
      },
    );

  const readCall = () =>
    readOneRow<{ props: Record<string, unknown> }>(executor, 'MATCH ()-[r:CALLS]->() RETURN properties(r) AS props').then((r) => r.props);
  const readActivity = (size: number) =>
    readOneRow<{ flows: number; connections: number }>(
      executor,
      'MATCH (a:Activity {size: $size}) RETURN a.flows AS flows, a.connections AS connections',
      { size },
    );
  const readRollup = (size: number) =>
    readOneRow<{ flows: number; calls: number }>(
      executor,
      "MATCH (u:Rollup {size: $size}) WHERE u.key STARTS WITH 'WORKLOAD|' RETURN u.flows AS flows, u.calls AS calls",
      { size },
    );

  it('adds the buckets and their roll-ups, and leaves the call and the all-time roll-ups untouched', async () => {
    // The totals go out first, their buckets held back.
    await write([tcpCallRow('shop/web', 'shop/db', ROW_TIME, 5)]);
    const call = await readCall();
    const allTime = await readRollup(0);
    expect(allTime).toEqual({ flows: 5, calls: 1 });
    const { seq: feedBefore } = await readOneRow<{ seq: number }>(executor, 'MATCH (f:ChangeFeed) RETURN f.seq AS seq');

    const held: CallRow = {
      ...tcpCallRow('shop/web', 'shop/db', ROW_TIME, 0),
      bucketsOnly: true,
      activity: [bucket(MIN, 5), bucket(HOUR, 5)],
    };
    await write([held]);
    expect(await readCall()).toEqual(call);
    expect(await readRollup(0)).toEqual(allTime);
    expect(await readActivity(60)).toEqual({ flows: 5, connections: 5 });
    expect(await readActivity(3600)).toEqual({ flows: 5, connections: 5 });
    expect(await readRollup(60)).toEqual({ flows: 5, calls: 1 });
    expect(await readRollup(3600)).toEqual({ flows: 5, calls: 1 });
    // The batch was recorded (its resume point with it) but announced no change of the call.
    const log = await executor.read<{ stampedCalls: number }>(
      'MATCH (l:ChangeLog) WHERE l.seq > $seq RETURN l.stampedCalls AS stampedCalls',
      { seq: feedBefore },
    );
    expect(log.length).toBeGreaterThan(0);
    expect(log.map((l) => l.stampedCalls)).toEqual(log.map(() => 0));

    // A late flow of the same minute, written after the bucket: added, and the bucket still counts one call.
    await write([{ ...tcpCallRow('shop/web', 'shop/db', ROW_TIME, 0), bucketsOnly: true, activity: [bucket(MIN, 2), bucket(HOUR, 2)] }]);
    expect(await readActivity(60)).toEqual({ flows: 7, connections: 7 });
    expect(await readRollup(60)).toEqual({ flows: 7, calls: 1 });
    expect(await readCall()).toEqual(call);
  });
});
