import type { AppConfig } from '../config';
import { ActivityHold } from '../flows/activity-hold';
import { EdgeAggregator } from '../flows/edge-aggregator';
import type { Logger } from '../logger';
import { FlowPipeline, type CollectorResumeOptions } from './flow-pipeline';
import type { CollectorRuntime } from './start-collector-runtime';

export interface StartFlowPipelineOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  /** Name of the source, stored on the Collector node (`hubble`, `file`). */
  readonly source: string;
  /** Crash-safe resume of a following source (`collect`, `import --follow`; not a plain `import`, which counts what it reads). */
  readonly resume?: CollectorResumeOptions;
}

/**
 * A flow source's pipeline on a collector runtime: the edge aggregator (attribution and time buckets
 * as configured) drained by the runtime's flusher, open buckets held until they close. The caller
 * feeds it events (`consume`, `ingest`).
 */
export function startFlowPipeline(runtime: CollectorRuntime, options: StartFlowPipelineOptions): FlowPipeline {
  const { config } = options;
  const { buckets, writeIntervalMs } = config.time;
  // Holding, the hold takes only the finest buckets in and builds the coarser ones when it writes
  // them: the aggregator's drains need carry no others.
  const aggregator = new EdgeAggregator({
    attribution: config.collector.attribution,
    maxDedupEntries: config.collector.pairingWindow,
    buckets: writeIntervalMs > 0 ? buckets.slice(0, 1) : buckets,
  });
  return new FlowPipeline({
    config: config.collector,
    aggregator,
    flusher: runtime.flusher,
    metrics: runtime.metrics,
    log: options.log,
    source: options.source,
    unmanaged: () => aggregator.unmanaged().map((u) => u.id),
    resume: options.resume,
    pairingReachWarnMs: config.hubble.resumeOverlapMs,
    hold: new ActivityHold({
      spec: buckets,
      closeMarginMs: config.hubble.resumeOverlapMs,
      writeIntervalMs,
    }),
  });
}
