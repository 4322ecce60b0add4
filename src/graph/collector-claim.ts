import { HubbleGraphError } from '../errors';
import {
  CLAIM_COLLECTOR,
  type ClaimCollectorRow,
  LOCK_COLLECTOR,
  type OtherCollectorNodesRow,
  RELEASE_COLLECTOR,
  RENEW_COLLECTOR,
  type RenewCollectorRow,
  RENEW_SHARE_HUBBLE_NODES,
} from './cypher/collector-queries';
import type { Executor } from './executor';

/** Which run of which collector, where it runs, and how long a hold lasts without renewal (CLAIM_COLLECTOR). */
export interface CollectorClaim {
  readonly collectorId: string;
  readonly runId: string;
  /** A holder that has not renewed for this long is taken to be gone (0: any holder is). */
  readonly leaseMs: number;
  /** The claiming process's host name, pid and process space (src/collector/holder-process.ts), stored with the hold, and its slot. */
  readonly host: string;
  readonly pid: number;
  readonly space: string | null;
  /** Where it runs that never has two processes at once (HG_COLLECTOR_SLOT; holder-process.ts, holderProcessGone), or null. */
  readonly slot: string | null;
}

/**
 * Tries once to hold the collector id for the run; says who holds it when another run does.
 * `goneHolder`: a run known to have ended (its process is gone), whose hold is taken at once.
 */
export async function tryClaimCollector(executor: Executor, claim: CollectorClaim, goneHolder?: string): Promise<ClaimCollectorRow> {
  return executor.writeTx(async (tx) => {
    await tx.run(LOCK_COLLECTOR, { collectorId: claim.collectorId });
    const [row] = await tx.run<ClaimCollectorRow>(CLAIM_COLLECTOR, { ...claim, goneHolder: goneHolder ?? null });
    if (row === undefined) throw new Error(`the Collector node ${claim.collectorId} vanished inside its own transaction`);
    return row;
  });
}

/** What a renewal found: the run that holds the id now when it is another, and the other live collectors' Hubble nodes when asked. */
export interface RenewOutcome {
  /** The run that holds the id now, when not this one ('nobody' when none). */
  readonly takenBy?: string;
  /** With `share`, while this run holds the id: every other collector whose holder is live, with the Hubble nodes it stored. */
  readonly others?: readonly OtherCollectorNodesRow[];
}

/**
 * Renews the run's hold of the id; with `share`, in the same transaction and while the run still
 * holds it, stores the Hubble nodes the run read lately (`nodes`, null: as stored before) and reads
 * those of every other live collector (RENEW_SHARE_HUBBLE_NODES).
 */
export async function renewCollectorClaim(
  executor: Executor,
  claim: Pick<CollectorClaim, 'collectorId' | 'runId'>,
  share?: { readonly nodes: readonly string[] | null },
): Promise<RenewOutcome> {
  return executor.writeTx(async (tx): Promise<RenewOutcome> => {
    const { collectorId, runId } = claim;
    await tx.run(LOCK_COLLECTOR, { collectorId });
    const [row] = await tx.run<RenewCollectorRow>(RENEW_COLLECTOR, { collectorId, runId });
    if (row?.held !== true) return { takenBy: row?.holder ?? 'nobody' };
    if (share === undefined) return {};
    const [shared] = await tx.run<{ others: OtherCollectorNodesRow[] }>(RENEW_SHARE_HUBBLE_NODES, {
      collectorId,
      runId,
      nodes: share.nodes,
    });
    return { others: shared?.others ?? [] };
  });
}

/** Gives the id up (a clean stop), so that a process waiting for it need not wait for the lease. */
export async function releaseCollectorClaim(executor: Executor, claim: Pick<CollectorClaim, 'collectorId' | 'runId'>): Promise<void> {
  await executor.writeTx(async (tx) => {
    await tx.run(LOCK_COLLECTOR, { collectorId: claim.collectorId });
    await tx.run(RELEASE_COLLECTOR, { ...claim });
  });
}

/** The error of a run whose collector id another run holds now: whatever it has not committed is that run's to read again. */
export class CollectorTakenOverError extends HubbleGraphError {
  constructor(collectorId: string, runId: string, holder: string) {
    super(
      'COLLECTOR_TAKEN_OVER',
      `collector id "${collectorId}" is now held by run ${holder}, not by this run (${runId}): another process was started with the same id (HG_COLLECTOR_ID, or the same shard) and took it over after this one had not renewed it for HG_COLLECTOR_LEASE; this process stops without writing, and the holder reads again what this one had not committed`,
    );
  }
}
