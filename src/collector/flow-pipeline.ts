import type { CollectorConfig } from '../config';
import type { ActivityHold } from '../flows/activity-hold';
import { checkFlow, preview } from '../flows/check-flow';
import type { Flow, HubbleEvent } from '../flows/flow';
import { flowKey } from '../flows/flow-key';
import { isFlowTimeInRange, parseFlowTimeMs } from '../flows/flow-time';
import type { IngestBatch, ResumePoint } from '../model/ingest-rows';
import type { PairingWindowsState } from '../flows/pairing-window';
import type { Logger } from '../logger';
import type { CollectorMetrics } from './collector-metrics';
import type { DeltaSource, FlusherFactory, GraphFlusher } from './graph-flusher';
import { ResumeGate } from './resume-gate';
import { ResumeTracker } from './resume-tracker';

/** The pure aggregation the collector feeds (src/flows/edge-aggregator.ts). */
export interface FlowAggregator extends DeltaSource {
  /** Adds one flow; returns the reason when the flow cannot be attributed to an edge. */
  add(flow: Flow): string | undefined;
  /** Takes in a flow counted before (sent again after a restart): pairing windows only, nothing counted. */
  prime(flow: Flow): void;
  /** What the pairing windows hold (for the collector's metrics). */
  pairingWindows(): PairingWindowsState;
}

/** A drain this long (ms) after the last flow arrived writes every held bucket of activity. */
export const QUIET_MS = 1000;

/** New flows held back after a restart until the committed ones have come again: at most this many... */
export const RESUME_HOLD_MAX_FLOWS = 1_000_000;
/** ...and for at most this long (ms); then they are counted whatever is still missing. */
export const RESUME_HOLD_MAX_MS = 30_000;

/** Crash-safe resume (HG_RESUME_OVERLAP): what the previous run committed and the margin to keep. */
export interface CollectorResumeOptions {
  /** Out-of-order margin covered by flow keys (ms). */
  readonly overlapMs: number;
  /** What the previous run of this collector committed, read from Neo4j; undefined on a first start. */
  readonly start?: ResumePoint;
}

/** What the collector knows beyond the edges: stored on its `(:Collector)` node with every batch. */
export interface CollectorStatus {
  flowsReceived: number;
  flowsIngested: number;
  flowsSkipped: number;
  /** Skips by reason (no_endpoint, malformed_json, invalid_field, time_out_of_range, already_committed, ...). */
  skippedByReason: Record<string, number>;
  /** Values removed from flows that were kept, by field (`l7.http.method`, `source.labels`, ...). */
  fieldsDropped: Record<string, number>;
  lostEvents: number;
  hubbleNodesConnected: string[];
  hubbleNodesUnavailable: string[];
  unmanagedPods: string[];
}

export interface FlowPipelineOptions {
  readonly config: CollectorConfig;
  readonly aggregator: FlowAggregator;
  /** Makes the flusher that drains the aggregation (CollectorRuntime.flusher: the one every source feeds). */
  readonly flusher: FlusherFactory;
  readonly metrics: CollectorMetrics;
  readonly log: Logger;
  /** Unmanaged endpoints the aggregator saw (pods without Cilium), for the report. */
  readonly unmanaged?: () => string[];
  readonly source: string;
  /** Track what is committed for a restart (and, with `start`, resume from a previous run). */
  readonly resume?: CollectorResumeOptions;
  /** Wall clock (ms) for the flow-time range; tests may fix it. */
  readonly now?: () => number;
  /**
   * Keeps open buckets of activity back until they close (HG_BUCKET_WRITE_INTERVAL); its snapshot
   * goes into every resume point. Absent: every drain writes every bucket.
   */
  readonly hold?: ActivityHold;
  /**
   * Warn when a full pairing window reaches back less flow time than this (ms; HG_RESUME_OVERLAP,
   * Relay's out-of-order margin): the two ends of an exchange may then miss each other.
   */
  readonly pairingReachWarnMs?: number;
}

/** The pairing windows by their name in the metrics. */
const PAIRING_WINDOWS = [
  ['tcpOpens', 'tcp_opens'],
  ['exchanges', 'exchanges'],
] as const;

/** Where an imported flow was read: named in the log when it is skipped. */
export interface InputPlace {
  readonly file: string;
  readonly line: number;
}

interface HeldFlow {
  readonly flow: Flow;
  readonly nodeName: string | undefined;
  readonly key: string;
  readonly timeMs: number;
  readonly at: InputPlace | undefined;
}

/**
 * The flow sources' pipeline (Hubble over gRPC, files): events in, each flow checked, told apart as
 * committed before or new after a restart, aggregated in memory, and drained by the flusher into
 * Neo4j. Knows no transport: `consume` takes any AsyncIterable of HubbleEvents (gRPC stream, files,
 * arrays in tests).
 */
export class FlowPipeline {
  readonly flusher: GraphFlusher;
  private readonly status: CollectorStatus = {
    flowsReceived: 0,
    flowsIngested: 0,
    flowsSkipped: 0,
    skippedByReason: {},
    fieldsDropped: {},
    lostEvents: 0,
    hubbleNodesConnected: [],
    hubbleNodesUnavailable: [],
    unmanagedPods: [],
  };
  private readonly skippedLogged = new Map<string, number>();
  private readonly nodes = new Map<string, string>();
  /** Hubble nodes of the flows counted since takeReadNodes was last asked. */
  private readNodes = new Set<string>();
  private tracker: ResumeTracker | undefined;
  private gate: ResumeGate | undefined;
  private held: HeldFlow[] = [];
  private holdStartedMs = 0;
  /** Wall time the last flow arrived (ms): a drain after a quiet second writes every held bucket. */
  private lastFlowAtMs = 0;
  private readonly now: () => number;
  /** The pairing windows (metric names) that reached back less than `pairingReachWarnMs` at the last drain. */
  private readonly shortWindows = new Set<string>();
  private readonly onDropped = (field: string, value: unknown) => {
    this.status.fieldsDropped[field] = (this.status.fieldsDropped[field] ?? 0) + 1;
    this.options.metrics.fieldsDropped.inc({ field });
    const seen = (this.skippedLogged.get(field) ?? 0) + 1;
    this.skippedLogged.set(field, seen);
    if (seen <= 5)
      this.options.log.warn({ field, value: preview(value) }, 'invalid value removed from a flow; the flow is counted without it');
  };

  constructor(private readonly options: FlowPipelineOptions) {
    this.now = options.now ?? Date.now;
    if (options.resume) this.resumeFrom(options.resume.overlapMs, options.resume.start);
    this.flusher = options.flusher(this.deltaSource(), { collectorState: () => this.collectorState() });
  }

  /**
   * Keeps a resume point with every drain (`overlapMs`: the out-of-order margin covered by keys)
   * and, with `start`, resumes from what a previous run committed. Call before the first event.
   */
  resumeFrom(overlapMs: number, start?: ResumePoint): void {
    this.tracker = new ResumeTracker(overlapMs, start);
    this.gate = start ? new ResumeGate(start) : undefined;
    const held = start?.heldActivity ?? new Int8Array(0);
    if ((held.byteLength > 0 || (start?.heldActivityDelta?.byteLength ?? 0) > 0) && this.options.hold !== undefined) {
      try {
        this.options.hold.restore(held, start?.heldActivityDelta);
      } catch (err) {
        this.options.log.error(
          { err: (err as Error).message, bytes: held.byteLength },
          'the previous run kept open buckets that cannot be read: their activity is missing from the ranged maps (all-time totals are complete)',
        );
      }
    }
  }

  /**
   * Handles one event synchronously; `at` (a file and line of an import) is named in the log of a
   * flow skipped for what it holds.
   */
  ingest(event: HubbleEvent, at?: InputPlace): void {
    const { metrics } = this.options;
    switch (event.kind) {
      case 'flow':
        this.ingestFlow(event.flow, event.nodeName, at);
        return;
      case 'lost_events': {
        const n = Number(event.lost.num_events_lost ?? 0) || 0;
        const source = event.lost.source ?? 'UNKNOWN_LOST_EVENT_SOURCE';
        this.status.lostEvents += n;
        metrics.hubbleLostEvents.inc({ source }, n);
        this.options.log.warn(
          { source, lost: n, node: event.nodeName },
          'Hubble reports lost events (lost by Hubble, before hubble-graph)',
        );
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

  /**
   * One flow: checked at the boundary (src/flows/check-flow.ts), its time checked against the clock,
   * then, after a restart, told apart as committed before (pairing windows only) or new (held back
   * until the committed ones have come again), and counted.
   */
  private ingestFlow(flow: Flow, nodeName: string | undefined, at: InputPlace | undefined): void {
    this.status.flowsReceived++;
    this.lastFlowAtMs = this.now();
    this.options.metrics.flowsReceived.inc();
    const refused = checkFlow(flow, this.onDropped);
    if (refused !== undefined) {
      this.skip('invalid_field', { field: refused.field, message: refused.message, node: nodeName, ...at });
      return;
    }
    const timeMs = parseFlowTimeMs(flow.time);
    if (timeMs === undefined) {
      this.skip('no_time', { node: nodeName ?? flow.node_name, time: flow.time, ...at });
      return;
    }
    const { maxFlowAheadMs, maxFlowAgeMs } = this.options.config;
    if (!isFlowTimeInRange(timeMs, this.now(), { maxAheadMs: maxFlowAheadMs, maxAgeMs: maxFlowAgeMs })) {
      this.skip('time_out_of_range', { node: nodeName ?? flow.node_name, time: flow.time, maxFlowAheadMs, maxFlowAgeMs, ...at });
      return;
    }
    if (this.tracker === undefined) {
      this.count(flow, nodeName, at);
      return;
    }
    const key = flowKey(flow, nodeName);
    if (this.gate !== undefined) {
      if (this.gate.classify(key, timeMs) === 'committed') {
        this.options.aggregator.prime(flow);
        this.tracker.note(key, timeMs);
        this.skip('already_committed', { node: nodeName ?? flow.node_name, time: flow.time }, 'debug');
        if (this.gate.open) this.releaseHeld();
        return;
      }
      if (!this.gate.open) {
        if (this.held.length === 0) this.holdStartedMs = this.now();
        this.held.push({ flow, nodeName, key, timeMs, at });
        if (this.held.length >= RESUME_HOLD_MAX_FLOWS) this.openGate('held flows reached their limit');
        return;
      }
      if (this.held.length > 0) this.releaseHeld();
    }
    this.tracker.note(key, timeMs);
    this.count(flow, nodeName, at);
  }

  private count(flow: Flow, nodeName: string | undefined, at: InputPlace | undefined): void {
    const skipped = this.options.aggregator.add(flow);
    if (skipped === undefined) {
      const node = nodeName ?? flow.node_name;
      if (node !== undefined && node !== '') this.readNodes.add(node);
      this.status.flowsIngested++;
      this.options.metrics.flowsIngested.inc();
    } else {
      this.skip(skipped, { node: nodeName ?? flow.node_name, time: flow.time, ...at });
    }
  }

  /** Counts the new flows held back while committed ones were coming again, in their order. */
  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) {
      this.tracker?.note(h.key, h.timeMs);
      this.count(h.flow, h.nodeName, h.at);
    }
  }

  private openGate(why: string): void {
    if (this.gate === undefined || this.gate.open) return;
    this.options.log.warn(
      { why, missing: this.gate.missing, held: this.held.length, watermark: new Date(this.gate.point.watermarkMs).toISOString() },
      'resuming without every committed flow of the overlap sent again (Hubble may no longer hold them); pairing across the restart may count some exchanges twice',
    );
    this.gate.openNow();
    this.releaseHeld();
  }

  /**
   * The pairing windows' metrics, and a warning when a full window reaches back less flow time than
   * `pairingReachWarnMs` (once, until it reaches far enough again).
   */
  private reportPairingWindows(windows: PairingWindowsState): void {
    const { metrics, log, pairingReachWarnMs } = this.options;
    for (const [name, label] of PAIRING_WINDOWS) {
      const { size, entries, reachMs } = windows[name];
      metrics.pairingWindowEntries.set({ window: label }, entries);
      metrics.pairingWindowReach.set({ window: label }, reachMs / 1000);
      if (pairingReachWarnMs === undefined) continue;
      const short = entries >= size && reachMs < pairingReachWarnMs;
      if (short && !this.shortWindows.has(label)) {
        this.shortWindows.add(label);
        log.warn(
          { window: label, entries, reachMs, marginMs: pairingReachWarnMs },
          'a pairing window reaches back less flow time than the out-of-order margin: the two ends of an exchange further apart are counted twice; raise HG_PAIRING_WINDOW',
        );
      } else if (!short && this.shortWindows.delete(label)) {
        log.info({ window: label, entries, reachMs }, 'the pairing window reaches back far enough again');
      }
    }
  }

  /** The aggregator as the flusher drains it, with the resume point of each drain. */
  private deltaSource(): DeltaSource {
    const { aggregator, hold } = this.options;
    return {
      get dirtyEdges() {
        return aggregator.dirtyEdges;
      },
      get heldBuckets() {
        return hold?.size ?? 0;
      },
      drain: (final?: boolean): IngestBatch => {
        if (this.held.length > 0 && this.now() - this.holdStartedMs >= RESUME_HOLD_MAX_MS) this.openGate('held flows waited too long');
        const drained = aggregator.drain();
        // The source went quiet (an import ended, a stream paused): nothing to wait for.
        const quiet = this.now() - this.lastFlowAtMs >= QUIET_MS;
        const batch = hold === undefined ? drained : hold.take(drained, this.now(), final === true || quiet);
        this.options.metrics.heldBuckets.set(hold?.size ?? 0);
        this.reportPairingWindows(aggregator.pairingWindows());
        const resume = this.tracker?.snapshot();
        if (resume === undefined) return batch;
        if (hold !== undefined) {
          const { base, delta } = hold.snapshot();
          if (base === undefined) resume.heldActivityBaseKept = true;
          else resume.heldActivity = base;
          resume.heldActivityDelta = delta;
        }
        return { ...batch, resume };
      },
    };
  }

  /** The Hubble nodes of the flows counted since the last call (flows that name no node left out). */
  takeReadNodes(): Set<string> {
    const nodes = this.readNodes;
    this.readNodes = new Set();
    return nodes;
  }

  /** Records a skipped flow or line: counted by reason, logged at most a few times per reason. */
  skip(reason: string, context: Record<string, unknown>, level: 'warn' | 'debug' = 'warn'): void {
    this.status.flowsSkipped++;
    this.status.skippedByReason[reason] = (this.status.skippedByReason[reason] ?? 0) + 1;
    this.options.metrics.flowsSkipped.inc({ reason });
    const seen = (this.skippedLogged.get(reason) ?? 0) + 1;
    this.skippedLogged.set(reason, seen);
    if (seen <= 5 || seen % 10_000 === 0) {
      this.options.log[level](
        { reason, count: seen, ...context },
        seen === 5 ? 'skipped input (further ones of this reason logged every 10000th)' : 'skipped input',
      );
    }
  }

  /** Sets the Hubble nodes directly (e.g. from ServerStatus on connect). */
  setHubbleNodes(connected: readonly string[], unavailable: readonly string[]): void {
    for (const n of connected) this.nodes.set(n, 'NODE_CONNECTED');
    for (const n of unavailable) this.nodes.set(n, 'NODE_UNAVAILABLE');
    this.refreshNodes();
  }

  private refreshNodes(): void {
    const connected = [...this.nodes]
      .filter(([, s]) => s === 'NODE_CONNECTED')
      .map(([n]) => n)
      .sort();
    const unavailable = [...this.nodes]
      .filter(([, s]) => s !== 'NODE_CONNECTED' && s !== 'NODE_GONE')
      .map(([n]) => n)
      .sort();
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
    return {
      ...this.status,
      skippedByReason: { ...this.status.skippedByReason },
      fieldsDropped: { ...this.status.fieldsDropped },
      unmanagedPods: this.options.unmanaged?.() ?? [],
    };
  }

  private collectorState(): Record<string, unknown> {
    const s = this.snapshot();
    return {
      source: this.options.source,
      flowsReceived: s.flowsReceived,
      flowsIngested: s.flowsIngested,
      flowsSkipped: s.flowsSkipped,
      // Neo4j has no map properties: "reason=count" strings, sorted.
      skippedByReason: Object.entries(s.skippedByReason)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
      fieldsDropped: Object.entries(s.fieldsDropped)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
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
