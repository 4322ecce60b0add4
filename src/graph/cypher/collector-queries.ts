import { LABEL } from '../model';
import { lockOnMatch } from './counter-fragments';
import type { ResumePoint } from '../../model/ingest-rows';

/** The `(:Collector)` properties that hold its resume point (written with every batch that has one). */
export const RESUME_PROPERTY = {
  watermarkMs: 'resumeWatermarkMs',
  overlapMs: 'resumeOverlapMs',
  committedKeys: 'resumeKeys',
  heldActivity: 'resumeHeldActivity',
  heldActivityDelta: 'resumeHeldActivityDelta',
} as const;

/** Bytes as a property value: null (the property removed) when absent or empty. */
const bytesOrNull = (bytes: Int8Array | undefined): Int8Array | null => (bytes !== undefined && bytes.byteLength > 0 ? bytes : null);

/** The resume point as properties for the writer's `c += $collectorState`. */
export function resumeProperties(point: ResumePoint | undefined): Record<string, unknown> {
  if (point === undefined) return {};
  return {
    [RESUME_PROPERTY.watermarkMs]: point.watermarkMs,
    [RESUME_PROPERTY.overlapMs]: point.overlapMs,
    [RESUME_PROPERTY.committedKeys]: point.committedKeys,
    // null removes the property: nothing held. A batch that brings changes only leaves the stored base.
    ...(point.heldActivityBaseKept === true ? {} : { [RESUME_PROPERTY.heldActivity]: bytesOrNull(point.heldActivity) }),
    [RESUME_PROPERTY.heldActivityDelta]: bytesOrNull(point.heldActivityDelta),
  };
}

/** What a collector committed last: its resume point (null fields when it never stored one). */
export const READ_RESUME_POINT = `
MATCH (c:${LABEL.collector} {id: $collectorId})
RETURN c.${RESUME_PROPERTY.watermarkMs} AS watermarkMs, c.${RESUME_PROPERTY.overlapMs} AS overlapMs,
       c.${RESUME_PROPERTY.committedKeys} AS committedKeys, c.${RESUME_PROPERTY.heldActivity} AS heldActivity,
       c.${RESUME_PROPERTY.heldActivityDelta} AS heldActivityDelta`;

export interface ResumePointRow {
  watermarkMs: number | null;
  overlapMs: number | null;
  committedKeys: Int8Array | null;
  heldActivity: Int8Array | null;
  heldActivityDelta: Int8Array | null;
}

/**
 * A collector id is held by one run at a time (`holder`, renewed in `heartbeatAt` by Neo4j's clock),
 * so that two processes started with one id (two replicas of one shard, a restart beside the old
 * process) never both count the same flows. First statement of a claim, renewal or release: takes
 * the Collector node's write lock (counter-fragments.ts, lockOnMatch), so that what the next
 * statement reads cannot change before the transaction commits.
 */
export const LOCK_COLLECTOR = `
MERGE (c:${LABEL.collector} {id: $collectorId})
${lockOnMatch('c')}`;

/**
 * Whether the Collector node `c` is held by a run that renewed its hold within its own lease (the
 * one it claimed with), at `now` (a DateTime expression); `fallbackLeaseMs` (an expression) for a
 * holder stored before holds had leases. A holder that claimed with a lease of 0 holds nothing
 * against others. The one rule of a live holder: CLAIM_COLLECTOR waits only for one, and only live
 * holders' Hubble nodes are compared (RENEW_SHARE_HUBBLE_NODES, the API's stats).
 */
export function heldByLiveRun(c: string, now: string, fallbackLeaseMs: string): string {
  return `(${c}.holder IS NOT NULL AND ${c}.heartbeatAt IS NOT NULL AND ${c}.heartbeatAt > ${now} - duration({milliseconds: coalesce(${c}.holderLeaseMs, ${fallbackLeaseMs})}))`;
}

/**
 * Takes the id for `$runId` when nobody holds it, this run does, the holder has not renewed it for
 * its own lease (the one it claimed with; it crashed), the holder is `$goneHolder` (a run the caller
 * knows has ended: its process is gone), or `$leaseMs` is 0 (take it over at once); otherwise leaves
 * it and says who holds it, where, and since when it has not renewed. Stores the taker's lease, host,
 * pid, process space and slot, by which a later claimant in the same space or slot can tell a crashed
 * holder without waiting for the lease. After LOCK_COLLECTOR in the same transaction.
 */
export const CLAIM_COLLECTOR = `
MATCH (c:${LABEL.collector} {id: $collectorId})
WITH c, c.holder AS holder, c.holderHost AS holderHost, c.holderPid AS holderPid, c.holderSpace AS holderSpace,
     c.holderSlot AS holderSlot, c.heartbeatAt AS heartbeatAt, datetime.realtime() AS now
WITH c, holder, holderHost, holderPid, holderSpace, holderSlot, heartbeatAt, now,
     holder = $runId OR ($goneHolder IS NOT NULL AND holder = $goneHolder) OR toInteger($leaseMs) = 0
     OR NOT ${heldByLiveRun('c', 'now', 'toInteger($leaseMs)')} AS free
SET c.holder = CASE WHEN free THEN $runId ELSE holder END,
    c.holderHost = CASE WHEN free THEN $host ELSE holderHost END,
    c.holderPid = CASE WHEN free THEN toInteger($pid) ELSE holderPid END,
    c.holderSpace = CASE WHEN free THEN $space ELSE holderSpace END,
    c.holderSlot = CASE WHEN free THEN $slot ELSE holderSlot END,
    c.holderLeaseMs = CASE WHEN free THEN toInteger($leaseMs) ELSE c.holderLeaseMs END,
    c.heartbeatAt = CASE WHEN free THEN now ELSE heartbeatAt END,
    c.claimedAt = CASE WHEN free AND coalesce(holder, '') <> $runId THEN now ELSE c.claimedAt END,
    // The nodes another run read are not this run's.
    c.hubbleNodes = CASE WHEN free AND coalesce(holder, '') <> $runId THEN null ELSE c.hubbleNodes END
RETURN free AS held, holder AS previousHolder, holderHost AS previousHost, holderPid AS previousPid, holderSpace AS previousSpace,
       holderSlot AS previousSlot,
       CASE WHEN heartbeatAt IS NULL THEN null ELSE duration.inSeconds(heartbeatAt, now).milliseconds END AS renewedAgoMs`;

export interface ClaimCollectorRow {
  /** True when `$runId` holds the id now. */
  held: boolean;
  /** The run that held it before (null: nobody), and the host and pid of its process. */
  previousHolder: string | null;
  previousHost: string | null;
  previousPid: number | null;
  /** Its process space (holder-process.ts, processSpace): where its pid means something. */
  previousSpace: string | null;
  /** Its slot (HG_COLLECTOR_SLOT), or null. */
  previousSlot: string | null;
  /** How long ago the holder before renewed its claim (ms; null: never). */
  renewedAgoMs: number | null;
}

/** Renews `$runId`'s hold of the id (after LOCK_COLLECTOR); `held` false when another run holds it now. */
export const RENEW_COLLECTOR = `
MATCH (c:${LABEL.collector} {id: $collectorId})
WITH c, c.holder = $runId AS held
SET c.heartbeatAt = CASE WHEN held THEN datetime.realtime() ELSE c.heartbeatAt END
RETURN held, c.holder AS holder`;

export interface RenewCollectorRow {
  held: boolean;
  holder: string | null;
}

/** Gives the id up on a clean stop, so that a process waiting for it starts at once (after LOCK_COLLECTOR). */
export const RELEASE_COLLECTOR = `
MATCH (c:${LABEL.collector} {id: $collectorId})
WHERE c.holder = $runId
SET c.holder = null, c.holderHost = null, c.holderPid = null, c.holderSpace = null, c.holderSlot = null, c.holderLeaseMs = null, c.heartbeatAt = null,
    c.hubbleNodes = null`;

/**
 * Stores the Hubble nodes whose flows `$runId` read lately on its Collector node (`$nodes`; null:
 * unchanged) and returns, in one row, every other collector whose holder is live, with the nodes it
 * stored: two collectors that read one node count the flows both read twice (two shards given the
 * same HG_SHARD_INDEX, a single collector left beside shards). In the renewal's transaction, after
 * LOCK_COLLECTOR and RENEW_COLLECTOR found that `$runId` holds the id.
 */
export const RENEW_SHARE_HUBBLE_NODES = `
MATCH (c:${LABEL.collector} {id: $collectorId})
WHERE c.holder = $runId
SET c.hubbleNodes = CASE WHEN $nodes IS NULL THEN c.hubbleNodes ELSE $nodes END
WITH c, datetime.realtime() AS now
OPTIONAL MATCH (o:${LABEL.collector})
WHERE o.id <> c.id AND o.hubbleNodes IS NOT NULL AND ${heldByLiveRun('o', 'now', '0')}
RETURN collect(o {collectorId: o.id, host: o.holderHost, nodes: o.hubbleNodes}) AS others`;

export interface OtherCollectorNodesRow {
  collectorId: string;
  /** The host of the run that holds that id. */
  host: string | null;
  /** The Hubble nodes whose flows it read lately. */
  nodes: string[];
}
