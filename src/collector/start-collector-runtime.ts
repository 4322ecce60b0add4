import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { AppConfig } from '../config';
import { HubbleGraphError, errorMessage } from '../errors';
import type { Executor } from '../graph/executor';
import { isRefusal } from '../graph/executor';
import {
  CollectorTakenOverError,
  type CollectorClaim,
  releaseCollectorClaim,
  renewCollectorClaim,
  tryClaimCollector,
} from '../graph/collector-claim';
import { expireActivity } from '../graph/expire-activity';
import type { RefusedRow } from '../graph/isolate-refused-rows';
import { pruneGraph } from '../graph/prune-graph';
import { probeIngestBatch, writeIngestBatch } from '../graph/write-ingest-batch';
import { applyStagedParts, writeStagedBatch } from '../graph/write-staged-batch';
import type { Logger } from '../logger';
import { sleep } from '../sleep';
import { createCollectorMetrics, type CollectorMetrics } from './collector-metrics';
import { appendDeadLetters } from './dead-letter-file';
import { defaultCollectorId } from './default-collector-id';
import { GraphFlusher, type BatchWriter, type FlusherFactory } from './graph-flusher';
import { startHealthServer, type HealthServer } from './health-server';
import { holderProcessGone, noteHeldHere, processSpace } from './holder-process';
import { HubbleNodesWatch, type SharedNodesChange } from './shared-hubble-nodes';

/** What a source runner (runHubbleSource, runPrometheusSource) needs: the settings, the graph, and when to stop. */
export interface RunSourceOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  readonly executor: Executor;
  /** Aborting stops reading; the runner then makes its final flush and resolves. */
  readonly signal: AbortSignal;
  /** Serve /metrics, /healthz, /readyz on collector.listen (default true). */
  readonly serveHealth?: boolean;
}

/** What every source of a collector process shares: its name, metrics, the flusher's writer, health, upkeep. */
export interface CollectorRuntime {
  readonly collectorId: string;
  /** Identifies this run for the writer's batch guard (batch sequences restart with a new run). */
  readonly runId: string;
  readonly metrics: CollectorMetrics;
  /** Present when the runtime serves /metrics, /healthz and /readyz. */
  readonly health?: HealthServer;
  /**
   * Makes the flusher a source feeds and starts its timer: one batch per drain, written in one
   * transaction, or staged in Neo4j and applied in parts above `collector.batchSize` rows; retried
   * with backoff; rows Neo4j refuses for good dead-lettered. Its readiness is the runtime's.
   */
  readonly flusher: FlusherFactory;
  /** Rows Neo4j refused for good that went to the dead-letter file in this run (stored on the Collector node). */
  readonly deadLetterRows: number;
  /**
   * Aborted, with a CollectorTakenOverError as its reason, when another run took the collector id
   * over (this one had not renewed it for the lease): the source stops reading, nothing more is
   * written, and the runner fails with the reason.
   */
  readonly lost: AbortSignal;
  /**
   * Compares, at every renewal of the id, the Hubble nodes whose flows this run read with those
   * other live collectors read (HubbleNodesWatch): a node read by two is logged as an error and
   * counted in hubble_graph_hubble_nodes_shared. `readSince` gives the nodes read since it was last
   * called. For the Hubble source; an import of files reads no live node.
   */
  watchHubbleNodes(readSince: () => Iterable<string>): void;
  /** Final flush of the flusher, then stop timers and the health server; true when everything was written. */
  stop(timeoutMs?: number): Promise<boolean>;
}

export interface StartCollectorRuntimeOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  readonly executor: Executor;
  /** Serve /metrics, /healthz, /readyz on `collector.listen` (default true). */
  readonly serveHealth?: boolean;
  /** Stops the wait for a collector id another process holds (the start then fails with COLLECTOR_ID_HELD). */
  readonly signal?: AbortSignal;
  /** Extra readiness condition (e.g. the gRPC stream is connected, the last poll worked). */
  readonly sourceReady?: () => string | undefined;
  /** The id when HG_COLLECTOR_ID is not set. Default: defaultCollectorId('collect'). */
  readonly defaultId?: string;
}

/**
 * Starts what a collector process has whatever its source: its id (held against other processes
 * with the same id, waiting while one holds it: collector-claim.ts), metrics, the writer bound to
 * the executor, what a previous run left staged (applied first), the health endpoints, the periodic
 * prune and bucket expiry. The source makes its flusher with `runtime.flusher(...)`, feeds it, and
 * calls `stop()` on shutdown.
 */
export async function startCollectorRuntime(options: StartCollectorRuntimeOptions): Promise<CollectorRuntime> {
  const { config, log, executor } = options;
  const collectorId = config.collector.id ?? options.defaultId ?? defaultCollectorId('collect');
  const runId = randomUUID();
  const metrics = createCollectorMetrics();
  const claim: CollectorClaim = {
    collectorId,
    runId,
    leaseMs: config.collector.leaseMs,
    host: os.hostname(),
    pid: process.pid,
    space: processSpace(),
    slot: config.collector.slot ?? null,
  };
  const lost = new AbortController();
  const setHeld = (held: boolean) => {
    noteHeldHere(runId, held);
    metrics.collectorIdHeld.set(held ? 1 : 0);
    if (!held) metrics.hubbleNodesShared.set(0);
  };
  const lose = (err: CollectorTakenOverError) => {
    if (lost.signal.aborted) return;
    setHeld(false);
    log.error({ collectorId, runId, err: err.message }, 'collector id taken over by another process: stopping');
    lost.abort(err);
  };
  const rowsPerStatement = config.collector.batchSize;
  const rowsPerTransaction = config.collector.batchSize;
  let deadLetterRows = 0;
  const refusals = {
    isRefusal,
    deadLetter: async (rows: readonly RefusedRow[]) => {
      await appendDeadLetters(config.collector.deadLetterFile, collectorId, rows, log);
      for (const r of rows) metrics.deadLetterRows.inc({ kind: r.kind });
      deadLetterRows += rows.length;
    },
  };
  // A flush too large for one transaction is staged in Neo4j with its resume point, then applied in parts.
  const write: BatchWriter = async (batch, batchSeq, collectorState) => {
    const state = { ...collectorState, deadLetterRows };
    try {
      return batch.calls.length + batch.endpoints.length > rowsPerTransaction
        ? await writeStagedBatch(executor, batch, {
            collectorId,
            runId,
            batchSeq,
            collectorState: state,
            rowsPerStatement,
            rowsPerTransaction,
            refusals,
            concurrentParts: config.collector.stagedBucketWriters,
            holdsId: true,
          })
        : await writeIngestBatch(executor, batch, { collectorId, runId, batchSeq, collectorState: state, rowsPerStatement, holdsId: true });
    } catch (err) {
      if (err instanceof CollectorTakenOverError) lose(err);
      throw err;
    }
  };

  let flusher: GraphFlusher | undefined;
  let waitingFor: string | undefined;
  let health: HealthServer | undefined;
  if (options.serveHealth !== false) {
    health = await startHealthServer({
      listen: config.collector.listen,
      registry: metrics.registry,
      notReadyReason: () =>
        waitingFor ??
        (lost.signal.aborted ? errorMessage(lost.signal.reason) : undefined) ??
        options.sourceReady?.() ??
        flusher?.notReadyReason(),
    });
    log.info({ url: health.url }, 'collector metrics and health endpoints');
  }
  try {
    await holdCollectorId(executor, claim, log, options.signal, (reason) => (waitingFor = reason));
  } catch (err) {
    await health?.close();
    throw err;
  }
  setHeld(true);
  // Two collectors that read one Hubble node count the flows both read twice: said loudly, until it ends.
  const tellSharedNodes = ({ shared, began, ended }: SharedNodesChange) => {
    metrics.hubbleNodesShared.set(shared);
    for (const o of began)
      log.error(
        { collectorId, other: o.collectorId, otherHost: o.host, nodes: o.nodes.slice(0, 10), sharedNodes: o.nodes.length },
        'another collector reads flows of the same Hubble nodes: the flows both read are counted twice (give each shard its own HG_SHARD_INDEX of one HG_SHARD_COUNT, and run no single collector beside shards)',
      );
    for (const other of ended) log.info({ collectorId, other }, 'no Hubble node is read by this collector and that one any more');
  };
  // Renewed at a third of the lease, so that two late renewals in a row still keep it. While Neo4j
  // is away every renewal fails: logged once, then at debug level until one works again.
  let renewalFailing = false;
  let nodesRead: (() => Iterable<string>) | undefined;
  const nodesWatch = new HubbleNodesWatch();
  const renewal = periodically(
    config.collector.leaseMs > 0 ? Math.max(200, Math.floor(config.collector.leaseMs / 3)) : 5000,
    async () => {
      // With the Hubble source, the nodes it read go with the renewal, in its transaction.
      const period = nodesRead === undefined ? undefined : nodesWatch.period(nodesRead());
      const { takenBy, others } = await renewCollectorClaim(executor, claim, period && { nodes: period.changed ? period.nodes : null });
      renewalFailing = false;
      if (takenBy !== undefined) lose(new CollectorTakenOverError(collectorId, runId, takenBy));
      else if (period !== undefined && others !== undefined) tellSharedNodes(nodesWatch.committed(period.nodes, others));
    },
    (err) => {
      (renewalFailing ? log.debug.bind(log) : log.warn.bind(log))(
        { err: errorMessage(err) },
        'renewing the collector id failed; will try again',
      );
      renewalFailing = true;
    },
  );
  // Stops renewing; with `release`, gives the id up, so that a process waiting for it starts at once.
  const giveUp = async (release: boolean) => {
    await renewal.stop();
    setHeld(false);
    if (release)
      await releaseCollectorClaim(executor, claim).catch((err: unknown) =>
        log.warn({ err: errorMessage(err) }, 'could not give the collector id up; a process waiting for it waits for HG_COLLECTOR_LEASE'),
      );
  };

  // What a previous run committed but had not finished applying comes first.
  try {
    const leftover = await applyStagedParts(
      executor,
      { collectorId },
      { rowsPerStatement, rowsPerTransaction, refusals, concurrentParts: config.collector.stagedBucketWriters },
    );
    if (leftover > 0) log.info({ collectorId, parts: leftover }, 'applied the staged parts a previous run left');
  } catch (err) {
    await giveUp(true);
    await health?.close();
    throw err;
  }

  const makeFlusher: FlusherFactory = (deltas, sourceOptions) => {
    if (flusher !== undefined) throw new Error('a collector runtime feeds one flusher: its batch sequence is the exactly-once guard');
    flusher = new GraphFlusher(
      deltas,
      write,
      {
        flushIntervalMs: config.collector.flushIntervalMs,
        flushMaxEdges: config.collector.flushMaxEdges,
        warnUnwrittenEdges: config.collector.warnUnwrittenEdges,
        refusals: {
          ...refusals,
          probe: (batch, batchSeq) => probeIngestBatch(executor, batch, { collectorId, runId, batchSeq, rowsPerStatement, holdsId: true }),
        },
        ...sourceOptions,
      },
      metrics,
      log,
    );
    flusher.start();
    return flusher;
  };

  // The graph's housekeeping, prune and bucket expiry, is the whole store's: of several shards, only
  // shard 0 does it, so that N shards do not scan and delete the same nodes N times side by side.
  const housekeeping: Housekeeping[] = [];
  if (config.hubble.shardIndex === 0) {
    if (config.collector.pruneOlderThanMs > 0) {
      housekeeping.push(
        periodically(
          config.collector.pruneIntervalMs,
          async (signal) => {
            const res = await pruneGraph(executor, Date.now() - config.collector.pruneOlderThanMs, undefined, signal);
            log.info(res, 'pruned stale nodes and edges');
          },
          (err) => log.warn({ err: errorMessage(err) }, 'periodic prune failed; will try again'),
        ),
      );
    }
    // Also with buckets off: buckets stored before are expired once the default retention has passed.
    housekeeping.push(
      periodically(
        config.time.expireIntervalMs,
        async (signal) => {
          const deleted = await expireActivity(executor, config.time.buckets, Date.now(), config.time.expireBatch, signal);
          log.debug({ deleted }, 'expired activity buckets');
        },
        (err) => log.warn({ err: errorMessage(err) }, 'expiring activity buckets failed; will try again'),
      ),
    );
  }

  return {
    collectorId,
    runId,
    metrics,
    health,
    flusher: makeFlusher,
    get deadLetterRows() {
      return deadLetterRows;
    },
    lost: lost.signal,
    watchHubbleNodes(readSince) {
      nodesRead = readSince;
    },
    async stop(timeoutMs?: number) {
      await Promise.all(housekeeping.map((h) => h.stop()));
      // The id is renewed until the final flush is done: a long flush must not let a waiting process in.
      // A run that lost its id writes nothing more (each write would roll back): one attempt, no retries.
      const flushed =
        flusher === undefined
          ? !lost.signal.aborted
          : (await flusher.shutdown(lost.signal.aborted ? 0 : timeoutMs)) && !lost.signal.aborted;
      // Not after a failed final flush: Neo4j is away, and the release would wait for it as long again.
      await giveUp(flushed);
      await health?.close();
      return flushed;
    },
  };
}

/** `start()`, the rest of a source's start after its runtime's; when it throws, the runtime is stopped before the error goes on. */
export async function stopIfThrows<T>(runtime: CollectorRuntime, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    await runtime.stop(0);
    throw err;
  }
}

interface Housekeeping {
  /** Stops the timer, asks a run in progress to stop after its current transaction, and waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs `work` every `intervalMs`, one run at a time: a run longer than the interval (a backlog) is
 * not started again beside itself. Errors go to `onError`; the timer does not keep the process up.
 * `stop()` aborts the signal `work` is given, so that a shutdown waits for one transaction, not for
 * a whole backlog, before the final flush.
 */
function periodically(intervalMs: number, work: (signal: AbortSignal) => Promise<void>, onError: (err: unknown) => void): Housekeeping {
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= work(abort.signal)
      .catch(onError)
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}

/**
 * Holds the collector id for this run (tryClaimCollector), waiting while another live run holds
 * it: `onWait` gets why (readiness says so) and undefined once held. Throws COLLECTOR_ID_HELD when
 * `signal` aborts the wait.
 */
async function holdCollectorId(
  executor: Executor,
  claim: CollectorClaim,
  log: Logger,
  signal: AbortSignal | undefined,
  onWait: (reason: string | undefined) => void,
): Promise<void> {
  // A holder whose process has ended (SIGKILL, OOM kill), on this host or in this container before
  // its restart, is not waited for: the next claim names it, and takes the id at once.
  let gone: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const answer = await tryClaimCollector(executor, claim, gone);
    const { held, previousHolder, previousHost, previousPid, previousSpace, previousSlot, renewedAgoMs } = answer;
    const holder = { collectorId: claim.collectorId, holder: previousHolder, host: previousHost, pid: previousPid, renewedAgoMs };
    if (held) {
      onWait(undefined);
      if (previousHolder !== null && previousHolder !== claim.runId)
        log.warn(
          holder,
          previousHolder === gone
            ? 'took the collector id over from a run whose process has ended (on this host, or this container before its restart)'
            : 'took the collector id over from a run that had not renewed it for HG_COLLECTOR_LEASE (it crashed or lost Neo4j)',
        );
      return;
    }
    if (
      previousHolder !== null &&
      previousHolder !== gone &&
      holderProcessGone({ runId: previousHolder, host: previousHost, pid: previousPid, space: previousSpace, slot: previousSlot }, claim)
    ) {
      gone = previousHolder;
      continue;
    }
    const reason = `collector id "${claim.collectorId}" is held by run ${previousHolder}, renewed ${renewedAgoMs ?? '?'} ms ago: waiting until it stops or has not renewed it for its lease (HG_COLLECTOR_LEASE when it started)`;
    onWait(reason);
    (attempt === 1 ? log.warn.bind(log) : log.debug.bind(log))(
      holder,
      'another process holds this collector id (the same HG_COLLECTOR_ID, or the same shard): waiting for it',
    );
    // Again when the holder's lease would end, and at least every 5 s (it may stop and give the id up).
    await sleep(Math.min(5000, Math.max(100, claim.leaseMs - (renewedAgoMs ?? 0) + 50)), signal);
    if (signal?.aborted) throw new HubbleGraphError('COLLECTOR_ID_HELD', `stopped before it could start: ${reason}`);
  }
}
