import { appendChangeLog } from './append-change-log';
import { type Executor, runOneRow } from './executor';
import { NEXT_CHANGE_SEQ, type ChangeSeqRow } from './cypher/ingest-queries';
import { PRUNE_CALLS, PRUNE_CANDIDATES, PRUNE_ENDPOINTS, type DeletedRow, type PruneCandidatesRow } from './cypher/prune-queries';

export interface PruneResult {
  readonly calls: number;
  readonly endpoints: number;
}

/**
 * Removes relationships and nodes not seen since `cutoffMs` (flow time), in transactions of at most
 * `batchSize` deletions so that a large cleanup never holds one huge transaction. Each transaction
 * takes the next change-feed sequence and appends its change-log entry, like a write batch: the
 * sequence stays without holes (subscriptions read it in order), and results cached by the API
 * (service maps) are read again.
 */
export async function pruneGraph(executor: Executor, cutoffMs: number, batchSize = 10_000, signal?: AbortSignal): Promise<PruneResult> {
  const drain = async (query: string) => {
    let total = 0;
    // `signal`: a collector that stops does not wait for a long cleanup; the next run goes on.
    while (signal?.aborted !== true) {
      const deleted = await executor.writeTx(async (tx) => {
        // The sequence first: its lock orders this transaction with the writers, as theirs does.
        const { seq } = await runOneRow<ChangeSeqRow>(tx, NEXT_CHANGE_SEQ);
        const { deleted } = await runOneRow<DeletedRow>(tx, query, { cutoffMs, limit: batchSize });
        await appendChangeLog(tx, { seq, kind: 'prune', createdCalls: [], createdPods: [], stampedCalls: 0 });
        return deleted;
      });
      total += deleted;
      if (deleted < batchSize) return total;
    }
    return total;
  };
  const candidates = await executor.readTx((tx) => runOneRow<PruneCandidatesRow>(tx, PRUNE_CANDIDATES, { cutoffMs }));
  const calls = candidates.calls ? await drain(PRUNE_CALLS) : 0;
  const endpoints = candidates.endpoints ? await drain(PRUNE_ENDPOINTS) : 0;
  return { calls, endpoints };
}
