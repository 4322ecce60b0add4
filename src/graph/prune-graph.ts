import type { Executor } from './executor';
import { NEXT_CHANGE_SEQ } from './cypher/ingest-queries';
import { PRUNE_CALLS, PRUNE_ENDPOINTS, type DeletedRow } from './cypher/prune-queries';

export interface PruneResult {
  readonly calls: number;
  readonly endpoints: number;
}

/**
 * Removes relationships and nodes not seen since `cutoffMs` (flow time), in transactions of at most
 * `batchSize` deletions so that a large cleanup never holds one huge transaction.
 */
export async function pruneGraph(executor: Executor, cutoffMs: number, batchSize = 10_000): Promise<PruneResult> {
  const drain = async (query: string) => {
    let total = 0;
    for (;;) {
      const [{ deleted }] = await executor.write<DeletedRow>(query, { cutoffMs, limit: batchSize });
      total += deleted;
      if (deleted < batchSize) return total;
    }
  };
  const calls = await drain(PRUNE_CALLS);
  const endpoints = await drain(PRUNE_ENDPOINTS);
  // A new graph version, so that results cached by the API (service maps) are read again.
  if (calls + endpoints > 0) await executor.write(NEXT_CHANGE_SEQ);
  return { calls, endpoints };
}
