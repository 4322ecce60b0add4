import type { CollectorConfig } from '../config';
import type { Flow, HubbleEvent } from '../flows/flow';
import type { Logger } from '../logger';
import type { CollectorMetrics } from './collector-metrics';
import { GraphFlusher, type BatchWriter, type DeltaSource } from './graph-flusher';

/** The pure aggregation the collector feeds (src/flows/edge-aggregator.ts). */
export interface FlowAggregator extends DeltaSource {
  /** Adds one flow; returns the reason when the flow cannot be attributed to an edge. */
  add(flow: Flow): string | undefined;
}

/** What the collector knows beyond the edges: stored on its `(:Collector)` node with every batch. */
export interface CollectorStatus {
  flowsReceived: number;
  flowsIngested: number;
  flowsSkipped: number;
  /** Skips by reason (no_endpoint, malformed_json, ...). */
  skippedByReason: Record<string, number>;
  lostEvents: number;
  hubbleNodesConnected: string[];
  hubbleNodesUnavailable: string[];
  unmanagedPods: string[];
}

export interface CollectorOptions {
  readonly config: CollectorConfig;
  readonly aggregator: FlowAggregator;
  readonly write: BatchWriter;
  readonly metrics: CollectorMetrics;
  readonly log: Logger;
  /** Unmanaged endpoints the aggregator saw (pods without Cilium), for the report. */
  readonly unmanaged?: () => string[];
  readonly source: string;
}

/**
 * The pipeline: events in, aggregated in memory, flushed to Neo4j by the GraphFlusher. Knows no
 * transport: `consume` takes any AsyncIterable of HubbleEvents (gRPC stream, files, arrays in tests).
 */
export class Collector {
  readonly flusher: GraphFlusher;
  private readonly status: CollectorStatus = {
    flowsReceived: 0,
    flowsIngested: 0,
    flowsSkipped: 0,
    skippedByReason: {},
    lostEvents: 0,
    hubbleNodesConnected: [],
    hubbleNodesUnavailable: [],
    unmanagedPods: [],
  };
  private readonly skippedLogged = new Map<string, number>();
  private readonly nodes = new Map<string, string>();

  constructor(private readonly options: CollectorOptions) {
    this.flusher = new GraphFlusher(
      options.aggregator,
      options.write,
      {
        flushIntervalMs: options.config.flushIntervalMs,
        flushMaxEdges: options.config.flushMaxEdges,
        batchSize: options.config.batchSize,
        maxDirtyEdges: options.config.maxDirtyEdges,
        collectorState: () => this.collectorState(),
      },
      options.metrics,
      options.log,
    );
  }

  start(): void {
    this.flusher.start();
  }

  /** Handles one event synchronously. */
  ingest(event: HubbleEvent): void {
    const { metrics } = this.options;
    switch (event.kind) {
      case 'flow': {
        this.status.flowsReceived++;
        metrics.flowsReceived.inc();
        const skipped = this.options.aggregator.add(event.flow);
        if (skipped === undefined) {
          this.status.flowsIngested++;
          metrics.flowsIngested.inc();
        } else {
          this.skip(skipped, { node: event.nodeName ?? event.flow.node_name, time: event.flow.time });
        }
        return;
      }
      case 'lost_events': {
        const n = Number(event.lost.num_events_lost ?? 0) || 0;
        const source = event.lost.source ?? 'UNKNOWN_LOST_EVENT_SOURCE';
        this.status.lostEvents += n;
        metrics.hubbleLostEvents.inc({ source }, n);
        this.options.log.warn({ source, lost: n, node: event.nodeName }, 'Hubble reports lost events (lost by Hubble, before hubble-graph)');
        return;
      }
      case 'node_status': {
        const state = event.status.state_change ?? 'UNKNOWN_NODE_STATE';
        for (const name of event.status.node_names ?? []) this.nodes.set(name, state);
        this.refreshNodes();
        this.options.log.info({ state, nodes: event.status.node_names, message: event.status.message }, 'Hubble node status');
        return;
      }
    }
  }

  /** Records a skipped flow or line: counted by reason, logged at most a few times per reason. */
  skip(reason: string, context: Record<string, unknown>): void {
    this.status.flowsSkipped++;
    this.status.skippedByReason[reason] = (this.status.skippedByReason[reason] ?? 0) + 1;
    this.options.metrics.flowsSkipped.inc({ reason });
    const seen = (this.skippedLogged.get(reason) ?? 0) + 1;
    this.skippedLogged.set(reason, seen);
    if (seen <= 5 || seen % 10_000 === 0) {
      this.options.log.warn({ reason, count: seen, ...context }, seen === 5 ? 'skipped input (further ones of this reason logged every 10000th)' : 'skipped input');
    }
  }

  /** Sets the Hubble nodes directly (e.g. from ServerStatus on connect). */
  setHubbleNodes(connected: readonly string[], unavailable: readonly string[]): void {
    for (const n of connected) this.nodes.set(n, 'NODE_CONNECTED');
    for (const n of unavailable) this.nodes.set(n, 'NODE_UNAVAILABLE');
    this.refreshNodes();
  }

  private refreshNodes(): void {
    const connected = [...this.nodes].filter(([, s]) => s === 'NODE_CONNECTED').map(([n]) => n).sort();
    const unavailable = [...this.nodes].filter(([, s]) => s !== 'NODE_CONNECTED' && s !== 'NODE_GONE').map(([n]) => n).sort();
    this.status.hubbleNodesConnected = connected;
    this.status.hubbleNodesUnavailable = unavailable;
    this.options.metrics.hubbleNodes.set({ state: 'connected' }, connected.length);
    this.options.metrics.hubbleNodes.set({ state: 'unavailable' }, unavailable.length);
  }

  /** Feeds every event of `events` until it ends or `signal` aborts. */
  async consume(events: AsyncIterable<HubbleEvent>, signal?: AbortSignal): Promise<void> {
    let sinceNotify = 0;
    for await (const event of events) {
      this.ingest(event);
      if (++sinceNotify >= 256) {
        sinceNotify = 0;
        this.flusher.notify();
      }
      if (signal?.aborted) break;
    }
    this.flusher.notify();
  }

  /** A copy of the current status. */
  snapshot(): CollectorStatus {
    return { ...this.status, skippedByReason: { ...this.status.skippedByReason }, unmanagedPods: this.options.unmanaged?.() ?? [] };
  }

  private collectorState(): Record<string, unknown> {
    const s = this.snapshot();
    return {
      source: this.options.source,
      flowsReceived: s.flowsReceived,
      flowsIngested: s.flowsIngested,
      flowsSkipped: s.flowsSkipped,
      lostEvents: s.lostEvents,
      hubbleNodesConnected: s.hubbleNodesConnected,
      hubbleNodesUnavailable: s.hubbleNodesUnavailable,
      unmanagedPods: s.unmanagedPods.slice(0, 1000),
    };
  }

  /** Final flush; true when everything reached Neo4j. */
  shutdown(timeoutMs?: number): Promise<boolean> {
    return this.flusher.shutdown(timeoutMs);
  }
}
