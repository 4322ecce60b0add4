import { errorMessage } from '../errors';
import { readResumePoint } from '../graph/read-resume-point';
import { streamHubbleEvents } from '../hubble/observer-client';
import { nanosToTimestamp } from '../hubble/timestamps';
import { startCollectorRuntime, stopIfThrows, type RunSourceOptions } from './start-collector-runtime';
import { startFlowPipeline } from './start-flow-pipeline';
import { VERSION } from '../build-info';

/**
 * The Hubble source until `signal` aborts: GetFlows over gRPC (follow, reconnect, shard, resume
 * after a restart) into the flow pipeline and the collector's flusher. Resolves after the final
 * flush; the result is false when something could not be written.
 */
export async function runHubbleSource({ config, log, executor, signal: stopSignal, serveHealth }: RunSourceOptions): Promise<boolean> {
  let connected = false;
  const runtime = await startCollectorRuntime({
    config,
    log,
    executor,
    serveHealth,
    signal: stopSignal,
    sourceReady: () => (connected ? undefined : `not connected to Hubble at ${config.hubble.server}`),
  });
  const { metrics, collectorId } = runtime;
  // Reading stops on SIGTERM, and when another process took the collector id over.
  const signal = AbortSignal.any([stopSignal, runtime.lost]);
  // A start that fails from here on (Neo4j away, a resume point that cannot be read) still stops the
  // runtime: it gives the collector id up, which another process may be waiting for.
  const { resumedFrom, pipeline } = await stopIfThrows(runtime, async () => {
    const resumedFrom = await readResumePoint(executor, collectorId);
    const pipeline = startFlowPipeline(runtime, {
      config,
      log,
      source: 'hubble',
      resume: { overlapMs: config.hubble.resumeOverlapMs, start: resumedFrom },
    });
    return { resumedFrom, pipeline };
  });
  runtime.watchHubbleNodes(() => pipeline.takeReadNodes());
  log.info(
    {
      collectorId,
      runId: runtime.runId,
      source: 'hubble',
      version: VERSION,
      resumeFrom: resumedFrom && {
        watermark: new Date(resumedFrom.watermarkMs).toISOString(),
        committedKeys: resumedFrom.committedKeys.byteLength / 8,
      },
    },
    'collector started',
  );
  // After a restart: from the warm-up before the committed margin on, so that the pairing windows
  // learn the committed flows again before new ones arrive (see FlowPipeline and ResumeGate).
  const since =
    resumedFrom && nanosToTimestamp(BigInt(resumedFrom.watermarkMs - resumedFrom.overlapMs - config.hubble.resumeWarmupMs) * 1_000_000n);
  const { shardCount, shardIndex, nodesRefreshMs } = config.hubble;
  const events = streamHubbleEvents({
    hubble: config.hubble,
    // Several collectors share Relay's nodes: this one asks only for the nodes of its shard.
    shard: shardCount > 1 ? { count: shardCount, index: shardIndex, refreshMs: nodesRefreshMs } : undefined,
    onShardNodes: (nodes) => {
      metrics.shardNodes.set(nodes.length);
      log.info({ shard: `${shardIndex}/${shardCount}`, nodes }, 'reading the Hubble nodes of this shard');
    },
    filter: config.filter,
    resumeOverlapMs: config.hubble.resumeOverlapMs,
    since,
    maxFlowAheadMs: config.collector.maxFlowAheadMs,
    signal,
    log,
    onServerStatus: (status) => {
      connected = true;
      metrics.sourceConnected.set(1);
      // streamHubbleEvents has logged "connected to Hubble" with the server status.
      if (status.unavailable_nodes) pipeline.setHubbleNodes([], status.unavailable_nodes);
    },
    onConnectionError: (err, failures, retryInMs) => {
      connected = false;
      metrics.sourceConnected.set(0);
      (failures === 1 ? log.warn.bind(log) : log.debug.bind(log))(
        { err: err.message, failures, retryInMs },
        'Hubble connection failed; reconnecting',
      );
    },
    onUndecodable: (err) => pipeline.skip('undecodable', { err: err.message }),
  });
  let flushed: boolean;
  try {
    await pipeline.consume(events, signal);
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'flow source failed');
    throw err;
  } finally {
    metrics.sourceConnected.set(0);
    flushed = await runtime.stop();
    const s = pipeline.snapshot();
    log.info(
      { flushed, flowsReceived: s.flowsReceived, flowsIngested: s.flowsIngested, flowsSkipped: s.flowsSkipped },
      'collector stopped',
    );
    if (!flushed && !runtime.lost.aborted)
      log.error(
        'final flush incomplete: flows not written are read again from Hubble by the next start with the same --collector-id, while Hubble still holds them',
      );
  }
  if (runtime.lost.aborted) throw runtime.lost.reason;
  return flushed;
}
