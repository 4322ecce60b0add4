import { Registry } from 'prom-client';
import type { AppConfig } from '../config';
import { errorMessage } from '../errors';
import type { Executor } from '../graph/executor';
import { streamHubbleEvents } from '../hubble/observer-client';
import { nanosToTimestamp } from '../hubble/timestamps';
import type { Logger } from '../logger';
import { runPrometheusSource } from '../prometheus/run-prometheus-source';
import { startHealthServer } from './health-server';
import { defaultCollectorId, startCollector } from './start-collector';

export interface CollectOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  readonly executor: Executor;
  /** Aborting stops reading; `collect` then makes its final flush and resolves. */
  readonly signal: AbortSignal;
  /** Serve /metrics, /healthz, /readyz on collector.listen (default true). */
  readonly serveHealth?: boolean;
}

/**
 * Runs the configured source until `signal` aborts: Hubble over gRPC (follow, reconnect, resume)
 * into the aggregating collector, or the Prometheus poller. Resolves after the final flush; the
 * result is false when something could not be written.
 */
export async function collect(options: CollectOptions): Promise<boolean> {
  return options.config.collector.source === 'prometheus' ? collectFromPrometheus(options) : collectFromHubble(options);
}

async function collectFromHubble({ config, log, executor, signal, serveHealth }: CollectOptions): Promise<boolean> {
  let connected = false;
  const runtime = await startCollector({
    config,
    log,
    executor,
    source: 'hubble',
    serveHealth,
    sourceReady: () => (connected ? undefined : `not connected to Hubble at ${config.hubble.server}`),
    resume: true,
  });
  const { collector, metrics, resumedFrom } = runtime;
  // After a restart: from the warm-up before the committed margin on, so that the pairing windows
  // learn the committed flows again before new ones arrive (see Collector and ResumeGate).
  const since = resumedFrom && nanosToTimestamp(BigInt(resumedFrom.watermarkMs - resumedFrom.overlapMs - config.hubble.resumeWarmupMs) * 1_000_000n);
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
      if (status.unavailable_nodes) collector.setHubbleNodes([], status.unavailable_nodes);
    },
    onConnectionError: (err, failures, retryInMs) => {
      connected = false;
      metrics.sourceConnected.set(0);
      (failures === 1 ? log.warn.bind(log) : log.debug.bind(log))({ err: err.message, failures, retryInMs }, 'Hubble connection failed; reconnecting');
    },
    onUndecodable: (err) => collector.skip('undecodable', { err: err.message }),
  });
  let flushed: boolean;
  try {
    await collector.consume(events, signal);
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'flow source failed');
    throw err;
  } finally {
    metrics.sourceConnected.set(0);
    flushed = await runtime.stop();
    if (!flushed) log.error('final flush incomplete: flows not written are read again from Hubble by the next start with the same --collector-id, while Hubble still holds them');
  }
  return flushed;
}

async function collectFromPrometheus({ config, log, executor, signal, serveHealth }: CollectOptions): Promise<boolean> {
  const registry = new Registry();
  let lastError: string | undefined = 'no poll yet';
  const health =
    serveHealth === false
      ? undefined
      : await startHealthServer({ listen: config.collector.listen, registry, notReadyReason: () => lastError });
  try {
    await runPrometheusSource({
      config,
      log,
      executor,
      collectorId: config.collector.id ?? defaultCollectorId('prometheus'),
      signal,
      registry,
      onPoll: (report) => {
        lastError = report === null ? 'last poll failed' : undefined;
      },
    });
  } finally {
    await health?.close();
  }
  return true;
}
