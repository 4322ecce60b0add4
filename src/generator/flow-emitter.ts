import type { Flow, FlowLayer7, TcpFlags } from '../flows/flow';
import type { EdgeSpec, GenEndpoint } from './topology';
import { type Effects, type TruthBucket, type TruthEndpoint, addToTruth, emptyCall } from './truth';

/** One line of `hubble observe -o jsonpb`. */
export interface GetFlowsResponseJson {
  flow: Flow;
  node_name: string;
  time: string;
}

const EV_TRACE = { type: 4 };
const EV_L7 = { type: 129 };
const EV_DROP = { type: 1, sub_type: 133 };

/** Emits flows for a topology; truth is updated by each emitted flow. */
export class FlowEmitter {
  emitted = 0;
  private ms: number;
  private nsInMs = 0;
  private isoMs = -1;
  private isoPrefix = '';
  private connection = 0;
  private request = 0;
  private readonly uuidPrefix: string;
  readonly out: GetFlowsResponseJson[] = [];
  /** Truth per bucket of flow time (with bucketMs), by `bucketStart|key`. */
  readonly buckets = new Map<string, { bucket: TruthBucket; dnsSet: Set<string> }>();

  /**
   * `gapNs(timeMs)`: the mean time between two flows at `timeMs`, in ns (undefined: 1-41 µs, about
   * 48,000 flows/s). `bucketMs` > 0 keeps the truth per bucket too.
   */
  constructor(
    private readonly rng: () => number,
    private readonly budget: number,
    startTimeMs: number,
    seed: number,
    private readonly gapNs: ((timeMs: number) => number) | undefined,
    private readonly bucketMs: number,
  ) {
    this.ms = startTimeMs;
    // The start time is in the uuid too, so that runs started at different times (a restarted demo) never share one.
    const run = (Math.floor(startTimeMs / 1000) & 0xffff).toString(16).padStart(4, '0');
    this.uuidPrefix = `${(seed >>> 0).toString(16).padStart(8, '0')}-${run}-4000-8000-`;
  }

  get done(): boolean {
    return this.emitted >= this.budget;
  }

  /** Flow time of the last flow emitted (epoch ms; the start time before the first). */
  get nowMs(): number {
    return this.ms;
  }

  private nextTime(): string {
    // Uniform in [0.5, 1.5) x the mean gap: the mean holds, and no two flows share a time.
    this.nsInMs +=
      this.gapNs === undefined ? 1000 + Math.floor(this.rng() * 40000) : Math.max(1, Math.floor(this.gapNs(this.ms) * (0.5 + this.rng())));
    if (this.nsInMs >= 1_000_000) {
      this.ms += Math.floor(this.nsInMs / 1_000_000);
      this.nsInMs %= 1_000_000;
    }
    if (this.isoMs !== this.ms) {
      this.isoMs = this.ms;
      this.isoPrefix = new Date(this.ms).toISOString().slice(0, 23);
    }
    return `${this.isoPrefix}${String(this.nsInMs).padStart(6, '0')}Z`;
  }

  nextClientPort(): number {
    this.connection++;
    return 32768 + ((this.connection * 7919) % 28000);
  }

  nextRequestId(): string {
    this.request++;
    const h = this.request.toString(16).padStart(12, '0');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4a1b-9c2d-${this.uuidPrefix.slice(0, 8)}${h.slice(8, 12)}`;
  }

  /**
   * Emits one flow of `spec`: `fromServer` tells the packet's direction, `side` where it is observed
   * (EGRESS at the client, INGRESS at the server). Effects are what this flow adds to the truth.
   */
  emit(
    spec: EdgeSpec,
    fromServer: boolean,
    side: 'EGRESS' | 'INGRESS',
    clientPort: number,
    l4extra: { flags?: TcpFlags; icmpType?: number },
    l7: FlowLayer7 | undefined,
    effects: Effects,
  ): void {
    if (this.emitted >= this.budget) return;
    this.emitted++;
    const time = this.nextTime();
    const timeMs = this.ms;
    const client = spec.client;
    const server = spec.server;
    const observedAtClient = side === 'EGRESS';
    const nodeName = (observedAtClient ? client.node : server.node) ?? (observedAtClient ? server.node : client.node) ?? 'worker-1';
    const clientIp = client.ip;
    const serverIp = spec.serverIp;
    let l4: Flow['l4'];
    if (spec.protocol === 'ICMPv4') {
      l4 = { ICMPv4: l4extra.icmpType ? { type: l4extra.icmpType } : {} };
    } else {
      const ports = fromServer
        ? { source_port: spec.port, destination_port: clientPort }
        : { source_port: clientPort, destination_port: spec.port };
      l4 = spec.protocol === 'TCP' ? { TCP: l4extra.flags ? { ...ports, flags: l4extra.flags } : ports } : { UDP: ports };
    }
    const dropped = spec.verdict === 'DROPPED';
    const flow: Flow = {
      time,
      uuid: `${this.uuidPrefix}${this.emitted.toString(16).padStart(12, '0')}`,
      verdict: spec.verdict,
      IP: { source: fromServer ? serverIp : clientIp, destination: fromServer ? clientIp : serverIp, ipVersion: 'IPv4' },
      l4,
      source: fromServer ? server.ep : client.ep,
      destination: fromServer ? client.ep : server.ep,
      Type: l7 ? 'L7' : 'L3_L4',
      node_name: nodeName,
      event_type: l7 ? EV_L7 : dropped ? EV_DROP : EV_TRACE,
      traffic_direction: side,
    };
    if (spec.names) {
      if (fromServer) flow.source_names = spec.names;
      else flow.destination_names = spec.names;
    }
    if (l7) flow.l7 = l7;
    if (dropped) {
      flow.drop_reason = 133;
      flow.drop_reason_desc = 'POLICY_DENIED';
    } else if (!spec.legacy || l7) {
      flow.is_reply = fromServer;
      if (fromServer) flow.reply = true;
    } else if (fromServer && spec.legacyReplyFlag) {
      flow.reply = true;
    }
    if (!l7 && !dropped) flow.trace_observation_point = (observedAtClient ? !fromServer : fromServer) ? 'TO_STACK' : 'TO_ENDPOINT';
    this.out.push({ flow, node_name: nodeName, time });

    // The truth of this flow.
    addToTruth(spec.truth, spec.dnsSet, timeMs, effects);
    if (this.bucketMs > 0) {
      const start = timeMs - (((timeMs % this.bucketMs) + this.bucketMs) % this.bucketMs);
      const id = `${start}|${spec.truth.key}`;
      let b = this.buckets.get(id);
      if (b === undefined) {
        const t = spec.truth;
        b = {
          bucket: { ...emptyCall(t.key, t.sourceId, t.destinationId, t.port, t.protocol, t.verdict), bucketStartMs: start },
          dnsSet: new Set(),
        };
        this.buckets.set(id, b);
      }
      addToTruth(b.bucket, b.dnsSet, timeMs, effects);
    }
    this.see(client, timeMs, observedAtClient);
    this.see(server, timeMs, !observedAtClient);
    if (spec.names) for (const n of spec.names) this.see(this.fqdnOf(spec, n), timeMs, false);
  }

  fqdnResolver: ((name: string) => GenEndpoint) | undefined;
  /** Graph nodes that appeared in an emitted flow, in order of first appearance. */
  readonly seen = new Set<TruthEndpoint>();

  private fqdnOf(_spec: EdgeSpec, name: string): GenEndpoint {
    if (this.fqdnResolver === undefined) throw new Error('fqdnResolver is set before the first DNS name is needed');
    return this.fqdnResolver(name);
  }

  private see(g: GenEndpoint, timeMs: number, local: boolean): void {
    // A stream without end has no truth to give (generateFlows' truth() refuses): keep none of its endpoints.
    if (this.budget === Infinity) return;
    const t = g.truth;
    if (!this.seen.has(t)) {
      this.seen.add(t);
      t.firstSeenMs = timeMs;
    }
    t.lastSeenMs = timeMs;
    // The graph learns a pod's node from flows observed on that node.
    if (local && t.kind === 'pod' && g.node !== undefined) t.node = g.node;
  }
}
