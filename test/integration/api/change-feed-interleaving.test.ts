import { ChangeFeed } from '../../../src/api/change-feed';
import type { GraphReader } from '../../../src/api/read-graph';
import type { GqlCall, GqlEndpoint } from '../../../src/api/to-graphql';
import {
  CHANGE_FEED_HEAD_AND_LOG,
  CHANGE_WINDOW_ROWS,
  type ChangeWindowRowsRow,
  type HeadAndLogRow,
} from '../../../src/graph/cypher/api-change-feed-queries';
import type { Executor } from '../../../src/graph/executor';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { silentLogger } from '../../../src/logger';
import { readOneRow, resetGraph, testExecutor } from '../../helpers/neo4j';
import { waitUntil } from '../../helpers/wait-until';
import { callRow, podRow } from './seed-graph';

/**
 * A reader that lets a test commit write batches at the worst moments: before every statement the
 * change feed runs, inside its read transactions as well as between them.
 */
function interleavingReader(executor: Executor, beforeStatement: () => Promise<void>): GraphReader {
  return {
    async read<R>(query: string, params?: Record<string, unknown>): Promise<R[]> {
      await beforeStatement();
      return executor.read<R>(query, params);
    },
    async readTx(work) {
      return executor.readTx((tx) =>
        work({
          async run<R>(query: string, params?: Record<string, unknown>): Promise<R[]> {
            await beforeStatement();
            return tx.run<R>(query, params);
          },
        }),
      );
    },
  };
}

async function drain<T>(queue: AsyncIterator<T>, into: T[]): Promise<void> {
  for (;;) {
    const r = await queue.next();
    if (r.done) return;
    into.push(r.value);
  }
}

describe('change feed while batches commit between and inside its reads', () => {
  let executor: Executor;

  beforeAll(async () => {
    executor = testExecutor();
  });

  afterAll(async () => {
    await executor?.close();
  });

  beforeEach(async () => {
    await resetGraph(executor);
  });

  it('delivers every new edge as callAdded exactly once when the next batch re-touches it before the poller reads it', async () => {
    const runId = `run-${Date.now()}`;
    let batchSeq = 0;
    let armed = false;
    let created = 0;
    let committed = 0;
    const pods = Array.from({ length: 41 }, (_, i) => podRow('race', `p-${i}`, 'p', 'Deployment', ['app=p']));
    // Batch k creates edge k (p-k -> p-k+1) and adds to edge k-1: a poll that has read the sequence
    // of batch k but not yet its rows finds edge k already stamped by batch k+1.
    const commitNext = async () => {
      if (!armed || created >= 40) return;
      const k = created;
      created += 1;
      const calls = [callRow(pods[k]!.id, pods[k + 1]!.id, 80, 'TCP', 'FORWARDED', { flows: 1 })];
      if (k > 0) calls.push(callRow(pods[k - 1]!.id, pods[k]!.id, 80, 'TCP', 'FORWARDED', { flows: 1 }));
      await writeIngestBatch(
        executor,
        { endpoints: [pods[k]!, pods[k + 1]!], calls, maxFlowTimeMs: 0 },
        { collectorId: 'race', runId, batchSeq: batchSeq++ },
      );
      committed += 1;
    };
    await writeIngestBatch(
      executor,
      { endpoints: pods, calls: [], maxFlowTimeMs: 0 },
      { collectorId: 'race', runId, batchSeq: batchSeq++ },
    );

    const feed = new ChangeFeed(interleavingReader(executor, commitNext), { pollMs: 5, coalesceMs: 0 }, silentLogger());
    const added: GqlCall[] = [];
    const updated: GqlCall[] = [];
    const podsAdded: GqlEndpoint[] = [];
    const draining = [
      drain(
        feed.subscribe('callAdded', () => true),
        added,
      ),
      drain(
        feed.subscribe('callUpdated', () => true),
        updated,
      ),
      drain(
        feed.subscribe('podAdded', () => true),
        podsAdded,
      ),
    ];
    feed.start();
    await feed.ready();
    armed = true;
    await waitUntil('40 batches committed', () => committed >= 40, 60_000);
    const stored = (
      await executor.read<{ key: string; flows: number }>('MATCH ()-[r:CALLS]->() RETURN r.key AS key, r.flows AS flows')
    ).sort((a, b) => (a.key < b.key ? -1 : 1));
    expect(stored).toHaveLength(40);
    await waitUntil('a callAdded per stored edge', () => added.length >= stored.length, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    await feed.close();
    await Promise.all(draining);

    expect(added.map((c) => c.key).sort()).toEqual(stored.map((s) => s.key));
    // The last event of each edge carries its stored values.
    const latest = new Map<string, number>();
    for (const c of [...added, ...updated].sort((a, b) => Number(a.changeSeq) - Number(b.changeSeq))) latest.set(c.key, c.flows);
    expect(Object.fromEntries(latest)).toEqual(Object.fromEntries(stored.map((s) => [s.key, s.flows])));
    expect(podsAdded).toEqual([]);
  });

  it('gives a subscription that begins during a poll with nobody listening the edges committed after it began', async () => {
    const runId = `join-${Date.now()}`;
    const pods = [podRow('join', 'j-0', 'j', 'Deployment', ['app=j']), podRow('join', 'j-1', 'j', 'Deployment', ['app=j'])];
    await writeIngestBatch(executor, { endpoints: pods, calls: [], maxFlowTimeMs: 0 }, { collectorId: 'join', runId, batchSeq: 0 });
    const added: GqlCall[] = [];
    let draining: Promise<void> | undefined;
    let armed = false;
    // At the next statement, which belongs to a poll that began with no subscriber: subscribe, then
    // commit a new edge before the poll reads the head of the feed.
    const joinThenCommit = async () => {
      if (!armed) return;
      armed = false;
      draining = drain(
        feed.subscribe('callAdded', () => true),
        added,
      );
      await writeIngestBatch(
        executor,
        { endpoints: [], calls: [callRow(pods[0]!.id, pods[1]!.id, 80, 'TCP', 'FORWARDED')], maxFlowTimeMs: 0 },
        { collectorId: 'join', runId, batchSeq: 1 },
      );
    };
    const feed = new ChangeFeed(interleavingReader(executor, joinThenCommit), { pollMs: 20, coalesceMs: 0 }, silentLogger());
    feed.start();
    await feed.ready();
    armed = true;
    await waitUntil('the edge committed after the join', () => added.length >= 1, 20_000);
    await feed.close();
    await draining;
    expect(added.map((c) => c.key)).toEqual([`${pods[0]!.id}|${pods[1]!.id}|80|TCP|FORWARDED`]);
  });

  describe('change-log entries not (wholly) visible yet', () => {
    const pods = Array.from({ length: 4 }, (_, i) => podRow('gap', `g-${i}`, 'g', 'Deployment', ['app=g']));
    const key = (i: number) => `${pods[i]!.id}|${pods[i + 1]!.id}|80|TCP|FORWARDED`;

    /**
     * A reader that does not see the change-log entries in `hidden`, as if their commit were not
     * visible yet (or they were trimmed), nor the changed calls with a changeSeq in `hiddenStamps`,
     * as if their transaction were still being applied.
     */
    function hidingReader(hidden: Set<number>, hiddenStamps = new Set<number>()): GraphReader {
      const hide = <R>(query: string, rows: R[]): R[] => {
        if (query === CHANGE_FEED_HEAD_AND_LOG) {
          return (rows as HeadAndLogRow[]).map((r) => ({ ...r, entries: r.entries.filter((e) => !hidden.has(e.seq)) })) as R[];
        }
        if (query === CHANGE_WINDOW_ROWS) {
          return (rows as ChangeWindowRowsRow[]).map((r) => ({
            ...r,
            changed: r.changed.filter((c) => !hiddenStamps.has(c.changeSeq)),
          })) as R[];
        }
        return rows;
      };
      return {
        read: async <R>(query: string, params?: Record<string, unknown>) => hide(query, await executor.read<R>(query, params)),
        readTx: (work) =>
          executor.readTx((tx) =>
            work({ run: async <R>(query: string, params?: Record<string, unknown>) => hide(query, await tx.run<R>(query, params)) }),
          ),
      };
    }

    async function feedWithGap(stuckAfterMs: number) {
      const runId = `gap-${Date.now()}`;
      let batchSeq = 0;
      const newEdge = (i: number) =>
        writeIngestBatch(
          executor,
          { endpoints: [pods[i]!, pods[i + 1]!], calls: [callRow(pods[i]!.id, pods[i + 1]!.id, 80, 'TCP', 'FORWARDED')], maxFlowTimeMs: 0 },
          { collectorId: 'gap', runId, batchSeq: batchSeq++ },
        );
      await newEdge(2);
      const { seq: head } = await readOneRow<{ seq: number }>(executor, "MATCH (f:ChangeFeed {id: 'global'}) RETURN f.seq AS seq");
      const hidden = new Set([head + 1]);
      const skipped: number[] = [];
      const feed = new ChangeFeed(
        hidingReader(hidden),
        { pollMs: 20, coalesceMs: 0, stuckAfterMs, onPoll: (o) => void (o.skipped > 0 && skipped.push(o.skipped)) },
        silentLogger(),
      );
      const added: GqlCall[] = [];
      const draining = drain(
        feed.subscribe('callAdded', () => true),
        added,
      );
      feed.start();
      await feed.ready();
      await newEdge(0);
      await newEdge(1);
      return { feed, added, skipped, hidden, draining };
    }

    it('holds back what comes after it until it is there, then delivers both in order', async () => {
      const { feed, added, hidden, draining } = await feedWithGap(60_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(added).toEqual([]);
      hidden.clear();
      await waitUntil('both edges once the entry is visible', () => added.length >= 2, 20_000);
      await feed.close();
      await draining;
      expect(added.map((c) => c.key)).toEqual([key(0), key(1)]);
    });

    it('goes on without it after stuckAfterMs, counting the sequence numbers it skipped', async () => {
      const { feed, added, skipped, draining } = await feedWithGap(200);
      await waitUntil('the edge after the skipped entry', () => added.length >= 1, 20_000);
      await feed.close();
      await draining;
      expect(added.map((c) => c.key)).toEqual([key(1)]);
      expect(skipped).toEqual([1]);
    });

    it('holds back the newest entry while some of the calls it stamped are not visible, then delivers it whole', async () => {
      const runId = `partial-${Date.now()}`;
      await writeIngestBatch(executor, { endpoints: pods, calls: [], maxFlowTimeMs: 0 }, { collectorId: 'partial', runId, batchSeq: 0 });
      const { seq: head } = await readOneRow<{ seq: number }>(executor, "MATCH (f:ChangeFeed {id: 'global'}) RETURN f.seq AS seq");
      const hiddenStamps = new Set([head + 1]);
      const feed = new ChangeFeed(hidingReader(new Set(), hiddenStamps), { pollMs: 20, coalesceMs: 0 }, silentLogger());
      const added: GqlCall[] = [];
      const draining = drain(
        feed.subscribe('callAdded', () => true),
        added,
      );
      feed.start();
      await feed.ready();
      const calls = [0, 1, 2].map((i) => callRow(pods[i]!.id, pods[i + 1]!.id, 80, 'TCP', 'FORWARDED'));
      await writeIngestBatch(executor, { endpoints: [], calls, maxFlowTimeMs: 0 }, { collectorId: 'partial', runId, batchSeq: 1 });
      await new Promise((r) => setTimeout(r, 300));
      expect(added).toEqual([]);
      hiddenStamps.clear();
      await waitUntil('the three edges once all stamps are visible', () => added.length >= 3, 20_000);
      await feed.close();
      await draining;
      expect(added.map((c) => c.key)).toEqual([key(0), key(1), key(2)]);
    });
  });
});
