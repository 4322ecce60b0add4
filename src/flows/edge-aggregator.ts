import type { ActivityRow, CallRow, EndpointRow, IngestBatch } from '../model/ingest-rows';
import { callKey, type EndpointKind, fqdnId, ipId, podId } from '../model/endpoint-ids';
import { MAX_DNS_NAMES_PER_EDGE, withDnsName } from '../model/dns-name';
import type { Flow, FlowEndpoint, FlowLayer7 } from './flow';
import { parseFlowTimeMs } from './flow-time';
import { encodeSketch } from '../model/latency-sketch';
import { DEFAULT_MAX_HTTP_PATHS } from '../policy/http-path-accumulator';
import { type MutableOrientation, orientFlowInto } from './orient-flow';
import { type BucketSpec, bucketStartMs } from '../model/time-buckets';
import { resolveEndpoint, toEndpointRow } from './to-endpoint';
import { PairingWindow, type PairingWindowsState } from './pairing-window';
import { ANY_SIDE, ownerSide } from './owner-side';
import { HttpPairs, countHttpPath, countInto, httpPathCountsOf } from './count-list';
import { Counts, CountsOfEdge, EdgeL7, type L7Counts } from './edge-counts';
import { type EdgeKind, type WindowScope, isKind } from './window-scope';

/** Why a flow was not counted; the collector counts skips by reason. */
export type SkipReason = 'no_time' | 'no_l4' | 'no_endpoint';

export interface EdgeAggregatorOptions {
  /**
   * Entries kept in each pairing window (TCP opens; L7 exchanges), oldest evicted first (HG_PAIRING_WINDOW).
   * Both ends of one exchange must arrive within this many distinct exchanges to be paired.
   * Default 100000.
   */
  maxDedupEntries?: number;
  /** Unmanaged endpoints remembered for the report, oldest evicted first. Default 10000. */
  maxUnmanaged?: number;
  /** Distinct DNS query names kept per edge and delta, counted normalised. Default MAX_DNS_NAMES_PER_EDGE (50). */
  maxDnsQueries?: number;
  /** Distinct HTTP method+path patterns kept per edge and delta (the writer keeps the same bound per edge). Default 50. */
  maxHttpPaths?: number;
  /**
   * Endpoints whose ids the aggregator keeps between drains (so that a flow's pod costs two map
   * lookups and no string building); past this many, the cache is emptied at the next drain, but
   * for the endpoints the pairing windows still hold entries of (they count towards the next
   * emptying's threshold as extra: the windows bound them). Default 200000.
   */
  maxCachedEndpoints?: number;
  /**
   * How an exchange (TCP open, L7 request or response) seen at both ends counts once. `paired`
   * (default): in this aggregator's pairing windows, whichever end comes first. `owner`: only at the
   * observation of the side that owns it (see ownerSide), so that aggregators fed with the
   * flows of different nodes (sharded collectors) together count it once without seeing each other.
   */
  attribution?: 'paired' | 'owner';
  /**
   * Bucket sizes of flow time the drained rows carry activity for (finest first; see
   * src/model/time-buckets.ts). Default none: rows carry totals only.
   */
  buckets?: BucketSpec;
}

/** What the aggregator keeps about one graph node between flows. */
interface EndpointSlot {
  readonly id: string;
  readonly kind: EndpointKind;
  /** Never reused; names the endpoint in the dirty-edge maps and the pairing windows. */
  readonly serial: number;
  row: EndpointRow | null;
  /** The drain generation `row` belongs to. */
  epoch: number;
}

function isUnmanaged(slot: EndpointSlot, endpoint: FlowEndpoint | undefined): boolean {
  if (slot.kind === 'pod') {
    if (endpoint === undefined) return false;
    return (
      endpoint.identity === 3 ||
      (endpoint.identity === undefined && endpoint.labels !== undefined && endpoint.labels.includes('reserved:unmanaged'))
    );
  }
  return slot.id === 'reserved:unmanaged';
}

/** An endpoint that Cilium does not manage (`reserved:unmanaged`): restart the pod so Cilium takes it over. */
export interface UnmanagedObservation {
  /** Graph id: the pod (`namespace/pod`) when Hubble knew it, else `ip:ADDR` or `reserved:unmanaged`. */
  id: string;
  ip: string | null;
  namespace: string | null;
  podName: string | null;
  /** Node that observed it, when known. */
  node: string | null;
  flows: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** traffic_direction as an index: 0 EGRESS, 1 INGRESS, 2 unknown. */
function directionIndex(direction: string | undefined): number {
  if (direction === 'EGRESS') return 0;
  if (direction === 'INGRESS') return 1;
  return 2;
}

/**
 * The EdgeKind of each port, protocol and verdict seen. Emptied at a drain once it holds more than
 * `max`: kinds are compared by value where they outlive a delta (the pairing windows).
 */
class EdgeKinds {
  private readonly byKey = new Map<string, EdgeKind>();

  constructor(private readonly max: number) {}

  of(port: number, protocol: string, verdict: string): EdgeKind {
    const key = `${port}\0${protocol}\0${verdict}`;
    let kind = this.byKey.get(key);
    if (kind === undefined) this.byKey.set(key, (kind = Object.freeze({ port, protocol, verdict })));
    return kind;
  }

  /** Called between deltas. */
  trim(): void {
    if (this.byKey.size > this.max) this.byKey.clear();
  }
}

const ONE_PROTOCOL = new Map<string, readonly string[]>();

/**
 * `[protocol]`, one shared list per protocol: most L7 edges speak one protocol, and a list of their
 * own would cost each of them about 56 bytes. Never changed: a second protocol makes a new list.
 */
function oneProtocol(protocol: string): readonly string[] {
  let list = ONE_PROTOCOL.get(protocol);
  if (list === undefined) ONE_PROTOCOL.set(protocol, (list = Object.freeze([protocol])));
  return list;
}

/** Verdict names as shared constants, so that edges do not each keep a copy from their first flow. */
const VERDICTS = new Map(
  ['FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED', 'VERDICT_UNKNOWN'].map((v) => [v, v]),
);

/**
 * The change of one CALLS relationship since the last drain, kept per bucket of flow time. Kept
 * small (the collector holds one per dirty edge): optional parts are null until used. The edge is
 * itself the counts of its first bucket (one object per edge instead of two, and no edge-wide copy
 * of the first and last flow times: the row takes them from the buckets).
 */
class EdgeDelta extends Counts implements WindowScope {
  /** Another edge between the same two endpoints on the same port (other protocol or verdict). */
  next: EdgeDelta | null = null;

  constructor(
    /**
     * The slots of both ends: their rows of this delta (set before the edge is made, and kept
     * until the drain that ends the delta), and their serials, which name them in the pairing
     * windows. Two references instead of rows and serials: 16 bytes less per edge.
     */
    private readonly client: EndpointSlot,
    private readonly server: EndpointSlot,
    readonly kind: EdgeKind,
    timeMs: number,
    bucketMs: number,
  ) {
    super(bucketMs === 0 ? timeMs : bucketStartMs(timeMs, bucketMs), timeMs);
  }

  get clientSerial(): number {
    return this.client.serial;
  }

  get port(): number {
    return this.kind.port;
  }

  get protocol(): string {
    return this.kind.protocol;
  }

  get verdict(): string {
    return this.kind.verdict;
  }

  get serverSerial(): number {
    return this.server.serial;
  }

  /** The client's row in this delta, which later flows update without a lookup. */
  get clientRow(): EndpointRow {
    return this.client.row as EndpointRow;
  }

  get serverRow(): EndpointRow {
    return this.server.row as EndpointRow;
  }

  /** The counts of the bucket of `timeMs` (of the finest size `bucketMs`; 0: buckets off), created when new. */
  countsAt(timeMs: number, bucketMs: number): Counts {
    const c = bucketMs === 0 ? this : this.bucketAt(bucketStartMs(timeMs, bucketMs), timeMs);
    c.seen(timeMs);
    return c;
  }

  /**
   * The bucket starting at `start`. The edge is the first bucket of its chain, and the bucket of
   * its latest flow elsewhere the second (consecutive flows of an edge mostly share a bucket): no
   * fields for the chain's head and the current bucket.
   */
  private bucketAt(start: number, timeMs: number): Counts {
    if (this.startMs === start) return this;
    let before: Counts | null = null;
    let found = this.nextBucket;
    while (found !== null && found.startMs !== start) {
      before = found;
      found = found.nextBucket;
    }
    if (found === null) {
      found = new Counts(start, timeMs);
    } else if (before !== null) {
      before.nextBucket = found.nextBucket;
    } else {
      return found;
    }
    found.nextBucket = this.nextBucket;
    this.nextBucket = found;
    return found;
  }

  /** The edge's buckets in this delta, itself first. */
  private allBuckets(): Counts[] {
    const all: Counts[] = [this];
    for (let c = this.nextBucket; c !== null; c = c.nextBucket) all.push(c);
    return all;
  }

  /** The call row: totals over every bucket, and one activity row per bucket of every size in `spec`. */
  toRow(spec: BucketSpec): CallRow {
    const total = new CountsOfEdge();
    for (const c of this.allBuckets()) total.add(c);
    const l7 = this.l7 as EdgeL7 | null;
    const row: CallRow = {
      key: callKey(this.client.id, this.server.id, this.port, this.protocol, this.verdict),
      sourceId: this.client.id,
      destinationId: this.server.id,
      port: this.port,
      protocol: this.protocol,
      verdict: this.verdict,
      flows: total.flows,
      connections: total.connections,
      requests: total.requests,
      responses: total.responses,
      errors: total.errors,
      l7Protocols: l7 === null || l7.protocols === null ? [] : [...l7.protocols],
      statusCounts: total.statusCounts,
      methodCounts: total.methodCounts,
      rcodeCounts: total.rcodeCounts,
      dropReasons: total.dropReasons,
      dnsQueries: l7 === null || l7.dnsQueries === null ? [] : [...l7.dnsQueries],
      httpPaths: l7 === null ? null : httpPathCountsOf(l7.keyed),
      latencySketch: total.sketch === null ? null : encodeSketch(total.sketch),
      latencyCount: total.latencyCount,
      latencySumMs: total.latencySumMs,
      latencyMinMs: total.latencyMinMs,
      latencyMaxMs: total.latencyMaxMs,
      firstSeenMs: total.firstSeenMs,
      lastSeenMs: total.lastSeenMs,
      source: 'hubble',
    };
    if (spec.length > 0) row.activity = this.activityRows(spec);
    return row;
  }

  /** The edge's own L7 part, which also keeps its protocols, DNS names and HTTP paths. */
  edgeL7(): EdgeL7 {
    if (this.l7 === null) this.l7 = new EdgeL7();
    return this.l7 as EdgeL7;
  }

  override l7Counts(): L7Counts {
    return this.edgeL7();
  }

  /** Every size's buckets: each coarser bucket is the sum of the finest buckets it holds. */
  private activityRows(spec: BucketSpec): ActivityRow[] {
    const rows: ActivityRow[] = [];
    for (const { sizeMs } of spec) {
      const sums = new Map<number, CountsOfEdge>();
      for (const c of this.allBuckets()) {
        const start = bucketStartMs(c.startMs, sizeMs);
        let sum = sums.get(start);
        if (sum === undefined) sums.set(start, (sum = new CountsOfEdge()));
        sum.add(c);
      }
      for (const [start, sum] of sums) rows.push(sum.toActivityRow(sizeMs, start));
    }
    return rows;
  }
}

/**
 * The primary key of a TCP open in its pairing window: the client port and the server port in one
 * small integer. With the client port alone, a scan of many ports from one source port (as port
 * scanners send) would chain all its opens under one key, and every SYN would walk the chain.
 */
function tcpOpenKey(o: MutableOrientation): number {
  return (o.clientPort << 16) | o.port;
}

/** The X-Request-Id header of an HTTP event (header names compared case-insensitively). */
export function requestIdOf(headers: readonly { key?: string; value?: string }[] | undefined): string | undefined {
  if (headers === undefined) return undefined;
  for (const { key, value } of headers) {
    // Hubble prints Go's canonical form (X-Request-Id); other spellings take the slower compare.
    if (key !== undefined && key.length === 12 && (key === 'X-Request-Id' || key.toLowerCase() === 'x-request-id'))
      return value || undefined;
  }
  return undefined;
}

/** An L7 exchange: the protocol, its id and two discriminators (DNS qtype, Kafka api key; the protocol). */
interface Exchange {
  protocol: string;
  id: string | number | undefined;
  a: string | undefined;
  b: string | undefined;
}

/** Fills `out` with the exchange an L7 record belongs to; undefined for a record of no known protocol. */
function exchangeOf(l7: FlowLayer7, out: Exchange): Exchange | undefined {
  const { http, dns, kafka } = l7;
  if (http) {
    out.protocol = http.protocol || 'HTTP/1.1';
    out.id = requestIdOf(http.headers);
    out.a = undefined;
    out.b = undefined;
  } else if (dns) {
    out.protocol = 'DNS';
    out.id = dns.query ?? '';
    out.a = dns.qtypes?.[0];
    out.b = 'dns';
  } else if (kafka) {
    out.protocol = 'Kafka';
    out.id = kafka.correlation_id;
    out.a = kafka.api_key;
    out.b = 'kafka';
  } else {
    return undefined;
  }
  return out;
}

/**
 * The dirty edges of a delta by the serials of their two ends and their port (the first edge of
 * each; the others, with another protocol or verdict, hang on its `next`): open addressing over one
 * Int32Array of positions in `firsts`, at most half full, the keys compared on the edges themselves:
 * 8 to 16 bytes per edge, where a Map per client of Maps per server took about 70. The port is in
 * the key so that a pair with thousands of ports (a port scan) does not make a chain to walk.
 */
class EdgeTable {
  /** Slot i holds the edge firsts[index[i] - 1]; 0: empty. */
  private index = new Int32Array(1024);
  /** The first edge of every pair and port, in the order they came. */
  readonly firsts: EdgeDelta[] = [];

  private static slotOf(client: number, server: number, port: number, mask: number): number {
    return (Math.imul(client, 0x9e3779b1) ^ Math.imul(server, 0x85ebca6b) ^ Math.imul(port, 0xc2b2ae35)) & mask;
  }

  get(client: number, server: number, port: number): EdgeDelta | undefined {
    const mask = this.index.length - 1;
    for (let i = EdgeTable.slotOf(client, server, port, mask); ; i = (i + 1) & mask) {
      const at = this.index[i] as number;
      if (at === 0) return undefined;
      const edge = this.firsts[at - 1] as EdgeDelta;
      if (edge.clientSerial === client && edge.serverSerial === server && edge.port === port) return edge;
    }
  }

  /** Adds the first edge of a pair and port that get() did not find. */
  add(edge: EdgeDelta): void {
    this.firsts.push(edge);
    if (this.firsts.length * 2 > this.index.length) this.grow();
    else this.place(edge, this.firsts.length);
  }

  private place(edge: EdgeDelta, at: number): void {
    const mask = this.index.length - 1;
    let i = EdgeTable.slotOf(edge.clientSerial, edge.serverSerial, edge.port, mask);
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = at;
  }

  /** Doubles the table and places every pair again. */
  private grow(): void {
    this.index = new Int32Array(this.index.length * 2);
    this.firsts.forEach((edge, i) => this.place(edge, i + 1));
  }
}

/** Updates an endpoint row with a later (or earlier) sighting. */
function refreshRow(row: EndpointRow, endpoint: FlowEndpoint | undefined, node: string | null, timeMs: number): void {
  if (timeMs < row.firstSeenMs) row.firstSeenMs = timeMs;
  if (timeMs > row.lastSeenMs) row.lastSeenMs = timeMs;
  if (row.kind !== 'pod') return;
  if (node !== null && row.node !== node) row.node = node;
  const identity = endpoint?.identity;
  if (identity !== undefined && identity !== row.identity) {
    // The pod's identity changed (relabelled): take its current labels.
    const fresh = toEndpointRow({ id: row.id, kind: 'pod', endpoint, unmanaged: false }, row.node, timeMs);
    row.labels = fresh.labels;
    row.identity = fresh.identity;
    row.workload = fresh.workload ?? row.workload;
    row.workloadKind = fresh.workloadKind ?? row.workloadKind;
  }
}

/**
 * Accumulates flows into per-edge deltas in memory (see docs/flow-to-graph-rules.md). Memory is
 * bounded by the distinct edges and endpoints since the last drain plus fixed deduplication windows,
 * never by the number of flows. Not thread-safe; one per collector.
 */
export class EdgeAggregator {
  /** Dirty edges by the serials of their ends and their port; other protocol or verdict: `next`. */
  private edges = new EdgeTable();
  private edgeCount = 0;
  private endpointRows: EndpointRow[] = [];
  /** Drain generation: a slot's row belongs to the current delta when its epoch matches. */
  private epoch = 0;
  private readonly podSlots = new Map<string, Map<string, EndpointSlot>>();
  private readonly otherSlots = new Map<string, EndpointSlot>();
  private slotCount = 0;
  /** Endpoints kept at the last emptying of the cache because the pairing windows held them. */
  private slotsHeldForWindows = 0;
  private nextSerial = 1;
  private readonly maxCachedEndpoints: number;
  private readonly orientation: MutableOrientation = {
    reversed: false,
    protocol: 'TCP',
    port: 0,
    clientPort: 0,
    tcpOpen: false,
    rule: 'as_observed',
  };
  private readonly tcpOpens: PairingWindow;
  private readonly exchanges: PairingWindow;
  private readonly unmanagedSeen = new Map<string, UnmanagedObservation>();
  private readonly maxUnmanaged: number;
  private readonly maxDnsQueries: number;
  private readonly maxHttpPaths: number;
  /** Method+pattern pairs shared by the edges (kept across drains, emptied past 100,000). */
  private readonly httpPairs = new HttpPairs(100_000);
  /** The kinds the edges refer to (kept across drains, emptied past 100,000). */
  private readonly kinds = new EdgeKinds(100_000);
  private maxFlowTimeMs = 0;
  private readonly byOwner: boolean;
  private readonly buckets: BucketSpec;
  /** The finest bucket size (ms); 0 when buckets are off. */
  private readonly bucketMs: number;

  constructor(options: EdgeAggregatorOptions = {}) {
    this.buckets = options.buckets ?? [];
    this.bucketMs = this.buckets[0]?.sizeMs ?? 0;
    this.byOwner = options.attribution === 'owner';
    const maxDedup = options.maxDedupEntries ?? 100_000;
    this.tcpOpens = new PairingWindow(maxDedup, false);
    this.exchanges = new PairingWindow(maxDedup, true);
    this.maxUnmanaged = options.maxUnmanaged ?? 10_000;
    this.maxDnsQueries = options.maxDnsQueries ?? MAX_DNS_NAMES_PER_EDGE;
    this.maxHttpPaths = options.maxHttpPaths ?? DEFAULT_MAX_HTTP_PATHS;
    this.maxCachedEndpoints = options.maxCachedEndpoints ?? 200_000;
  }

  /** Edges changed since the last drain. */
  get dirtyEdges(): number {
    return this.edgeCount;
  }

  /** Endpoints seen since the last drain. */
  get dirtyEndpoints(): number {
    return this.endpointRows.length;
  }

  /** The slot of a flow endpoint: pods without building their id, others through resolveEndpoint. */
  private slotOf(
    endpoint: FlowEndpoint | undefined,
    ip: string | undefined,
    names: readonly string[] | undefined,
  ): EndpointSlot | undefined {
    if (endpoint !== undefined) {
      const podName = endpoint.pod_name;
      const namespace = endpoint.namespace;
      if (podName && namespace) {
        let byName = this.podSlots.get(namespace);
        if (byName === undefined) {
          byName = new Map();
          this.podSlots.set(namespace, byName);
        }
        let slot = byName.get(podName);
        if (slot === undefined) {
          slot = this.newSlot(podId(namespace, podName), 'pod');
          byName.set(podName, slot);
        }
        return slot;
      }
    }
    const resolved = resolveEndpoint(endpoint, ip, names);
    if (resolved === undefined) return undefined;
    let slot = this.otherSlots.get(resolved.id);
    if (slot === undefined) {
      slot = this.newSlot(resolved.id, resolved.kind);
      this.otherSlots.set(resolved.id, slot);
    }
    return slot;
  }

  private newSlot(id: string, kind: EndpointKind): EndpointSlot {
    this.slotCount++;
    return { id, kind, serial: this.nextSerial++, row: null, epoch: -1 };
  }

  /** The slot's row in this delta, created or refreshed. */
  private rowOf(slot: EndpointSlot, endpoint: FlowEndpoint | undefined, node: string | null, timeMs: number): EndpointRow {
    if (slot.epoch === this.epoch && slot.row !== null) {
      refreshRow(slot.row, endpoint, node, timeMs);
      return slot.row;
    }
    const row = toEndpointRow({ id: slot.id, kind: slot.kind, endpoint, unmanaged: false }, slot.kind === 'pod' ? node : null, timeMs);
    slot.row = row;
    slot.epoch = this.epoch;
    this.endpointRows.push(row);
    return row;
  }

  /** Adds one flow; returns why it was skipped, or undefined when it was counted. */
  add(flow: Flow): SkipReason | undefined {
    const timeMs = parseFlowTimeMs(flow.time);
    if (timeMs === undefined) return 'no_time';
    const o = this.orientation;
    if (!orientFlowInto(flow, o)) return 'no_l4';
    const ip = flow.IP;
    const reversed = o.reversed;
    const clientIp = reversed ? ip?.destination : ip?.source;
    const serverIp = reversed ? ip?.source : ip?.destination;
    const clientNames = reversed ? flow.destination_names : flow.source_names;
    const serverNames = reversed ? flow.source_names : flow.destination_names;
    const clientEp = reversed ? flow.destination : flow.source;
    const serverEp = reversed ? flow.source : flow.destination;
    const client = this.slotOf(clientEp, clientIp, clientNames);
    if (client === undefined) return 'no_endpoint';
    const server = this.slotOf(serverEp, serverIp, serverNames);
    if (server === undefined) return 'no_endpoint';

    const verdict = (flow.verdict && VERDICTS.get(flow.verdict)) || flow.verdict || 'VERDICT_UNKNOWN';
    const port = o.port;
    const protocol = o.protocol;
    // traffic_direction is relative to the connection: EGRESS is observed at the client, INGRESS at the server.
    const side = directionIndex(flow.traffic_direction);
    const nodeName = flow.node_name || null;
    const clientNode = side === 0 ? nodeName : null;
    const serverNode = side === 1 ? nodeName : null;
    const first = this.edges.get(client.serial, server.serial, port);
    let edge = first;
    while (edge !== undefined && !isKind(edge.kind, port, protocol, verdict)) edge = edge.next ?? undefined;
    if (edge === undefined) {
      this.rowOf(client, clientEp, clientNode, timeMs);
      this.rowOf(server, serverEp, serverNode, timeMs);
      edge = new EdgeDelta(client, server, this.kinds.of(port, protocol, verdict), timeMs, this.bucketMs);
      if (first !== undefined) {
        edge.next = first.next;
        first.next = edge;
      } else {
        this.edges.add(edge);
      }
      this.edgeCount++;
    } else {
      refreshRow(edge.clientRow, clientEp, clientNode, timeMs);
      refreshRow(edge.serverRow, serverEp, serverNode, timeMs);
    }
    const counts = edge.countsAt(timeMs, this.bucketMs);
    counts.flows++;
    if (timeMs > this.maxFlowTimeMs) this.maxFlowTimeMs = timeMs;
    // Every DNS name of a world endpoint is a node; the edge goes to the first in sort order.
    if (client.kind === 'fqdn' && clientNames !== undefined && clientNames.length > 1) this.touchOtherNames(client.id, clientNames, timeMs);
    if (server.kind === 'fqdn' && serverNames !== undefined && serverNames.length > 1) this.touchOtherNames(server.id, serverNames, timeMs);
    if (isUnmanaged(client, clientEp)) this.noteUnmanaged(client, clientEp, clientIp, clientNode, timeMs);
    if (isUnmanaged(server, serverEp)) this.noteUnmanaged(server, serverEp, serverIp, serverNode, timeMs);

    if (o.tcpOpen && this.countsHere(ownerSide(verdict, clientEp, serverEp), side)) {
      if (this.countOpen(o, edge, clientIp, serverIp, side, timeMs)) counts.connections++;
    }

    if (verdict === 'DROPPED') {
      const reason = flow.drop_reason_desc || (flow.drop_reason !== undefined ? String(flow.drop_reason) : 'DROP_REASON_UNKNOWN');
      counts.dropReasons = countInto(counts.dropReasons, reason);
    }

    const l7 = flow.l7;
    if (l7 !== undefined && l7 !== null) this.addL7(edge, counts, l7, side, verdict, clientEp, serverEp, timeMs);
    return undefined;
  }

  /** Counts a TCP open in its window (see raisesMax): true when it counts. */
  private countOpen(
    o: MutableOrientation,
    scope: WindowScope,
    clientIp: string | undefined,
    serverIp: string | undefined,
    side: number,
    timeMs: number,
  ): boolean {
    const opens = this.tcpOpens;
    return opens.countRequest(opens.entry(tcpOpenKey(o), scope, clientIp, serverIp, timeMs), side);
  }

  /** True when an observation from `side` may count an exchange owned by `owner` (always under paired attribution). */
  private countsHere(owner: number, side: number): boolean {
    return !this.byOwner || owner === ANY_SIDE || owner === side;
  }

  /**
   * Takes in a flow that was counted before (by a previous run, sent again after a restart): only
   * the pairing windows learn it, so that its other end, if it comes now, is not counted a second
   * time. Nothing is counted, no edge or endpoint becomes dirty, the flow time moves nothing.
   */
  prime(flow: Flow): void {
    const timeMs = parseFlowTimeMs(flow.time);
    if (timeMs === undefined) return;
    const o = this.orientation;
    if (!orientFlowInto(flow, o)) return;
    const ip = flow.IP;
    const reversed = o.reversed;
    const clientIp = reversed ? ip?.destination : ip?.source;
    const serverIp = reversed ? ip?.source : ip?.destination;
    const clientEp = reversed ? flow.destination : flow.source;
    const serverEp = reversed ? flow.source : flow.destination;
    const client = this.slotOf(clientEp, clientIp, reversed ? flow.destination_names : flow.source_names);
    if (client === undefined) return;
    const server = this.slotOf(serverEp, serverIp, reversed ? flow.source_names : flow.destination_names);
    if (server === undefined) return;
    const verdict = (flow.verdict && VERDICTS.get(flow.verdict)) || flow.verdict || 'VERDICT_UNKNOWN';
    const side = directionIndex(flow.traffic_direction);
    const scope: WindowScope = {
      clientSerial: client.serial,
      serverSerial: server.serial,
      kind: this.kinds.of(o.port, o.protocol, verdict),
    };
    if (o.tcpOpen && this.countsHere(ownerSide(verdict, clientEp, serverEp), side))
      this.countOpen(o, scope, clientIp, serverIp, side, timeMs);
    const l7 = flow.l7;
    if (l7 === undefined || l7 === null || (l7.type !== 'REQUEST' && l7.type !== 'RESPONSE')) return;
    const exchange = exchangeOf(l7, this.exchangeScratch);
    if (exchange === undefined || exchange.id === undefined) return;
    if (!this.countsHere(ownerSide(verdict, clientEp, serverEp), side)) return;
    const entry = this.exchanges.entry(exchange.id, scope, exchange.a, exchange.b, timeMs);
    if (l7.type === 'REQUEST') this.exchanges.countRequest(entry, side);
    else this.exchanges.countResponse(entry, side);
  }

  private readonly exchangeScratch: Exchange = { protocol: '', id: undefined, a: undefined, b: undefined };

  private addL7(
    edge: EdgeDelta,
    counts: Counts,
    l7: FlowLayer7,
    side: number,
    verdict: string,
    clientEp: FlowEndpoint | undefined,
    serverEp: FlowEndpoint | undefined,
    timeMs: number,
  ): void {
    const found = exchangeOf(l7, this.exchangeScratch);
    if (found === undefined) return;
    const { protocol, id: exchangeId, a: exchangeA, b: exchangeB } = found;
    const http = l7.http;
    const dns = l7.dns;
    const kafka = l7.kafka;
    if (dns && !http && dns.query) this.addDnsQuery(edge, dns.query);
    const edgeL7 = edge.edgeL7();
    if (edgeL7.protocols === null) edgeL7.protocols = oneProtocol(protocol);
    else if (!edgeL7.protocols.includes(protocol)) edgeL7.protocols = [...edgeL7.protocols, protocol];

    const type = l7.type;
    if (type !== 'REQUEST' && type !== 'RESPONSE') return;
    // Under owner attribution, the other side's observation only adds its flow (counted above).
    if (!this.countsHere(ownerSide(verdict, clientEp, serverEp), side)) return;
    // One window entry per (edge, exchange): requests and responses counted by side.
    // -1: no id to pair by (each observation counts).
    const windows = this.exchanges;
    const exchange = exchangeId !== undefined ? windows.entry(exchangeId, edge, exchangeA, exchangeB, timeMs) : -1;

    // An exchange's method counts once per attempt: with the observation that raises the larger of
    // its request and response counts, whichever comes first (a capture that starts mid-exchange,
    // or Relay's merge putting a response before its request, still counts it once).
    const attemptsBefore = exchange < 0 ? 0 : windows.attempts(exchange);
    if (type === 'REQUEST') {
      if (exchange >= 0 && !windows.countRequest(exchange, side)) return;
      counts.l7Counts().requests++;
      if (http && (exchange < 0 || windows.attempts(exchange) > attemptsBefore)) this.countHttpAttempt(edge, counts, http);
      return;
    }

    if (exchange >= 0 && !windows.countResponse(exchange, side)) return;
    const l7c = counts.l7Counts();
    l7c.responses++;
    if (http) {
      const code = http.code ?? 0;
      if (code > 0) l7c.keyed = countInto(l7c.keyed, code);
      if (code >= 500) l7c.errors++;
      if (exchange >= 0 && windows.attempts(exchange) > attemptsBefore) this.countHttpAttempt(edge, counts, http);
    } else if (dns) {
      // An integer from 0 (checkFlow), so that -1 - rcode is negative: see CountList.
      const rcode = dns.rcode ?? 0;
      l7c.keyed = countInto(l7c.keyed, -1 - rcode);
      if (rcode !== 0) l7c.errors++;
    } else if (kafka) {
      if ((kafka.error_code ?? 0) !== 0) l7c.errors++;
    }
    const latency = l7.latency_ns;
    if (latency !== undefined && latency !== '') {
      const ms = Number(latency) / 1e6;
      if (Number.isFinite(ms) && ms >= 0) {
        l7c.addLatency(ms);
      }
    }
  }

  /**
   * One attempt of an HTTP exchange: its method, and its method+path pattern (a request without URL
   * adds to the requests whose path is unknown, so a policy draft never takes the kept paths for all).
   */
  private countHttpAttempt(edge: EdgeDelta, counts: Counts, http: NonNullable<FlowLayer7['http']>): void {
    if (http.method) {
      const l7c = counts.l7Counts();
      l7c.keyed = countInto(l7c.keyed, http.method);
    }
    const edgeL7 = edge.edgeL7();
    edgeL7.keyed = countHttpPath(edgeL7.keyed, http.url ? this.httpPairs.of(http.method, http.url) : null, this.maxHttpPaths);
  }

  /** Names are normalised as they come, so that the cap counts names as the graph keeps them. */
  private addDnsQuery(edge: EdgeDelta, query: string): void {
    const edgeL7 = edge.edgeL7();
    edgeL7.dnsQueries = withDnsName(edgeL7.dnsQueries, query, this.maxDnsQueries);
  }

  private touchOtherNames(attributedId: string, names: readonly string[], timeMs: number): void {
    for (const name of names) {
      if (!name) continue;
      const id = fqdnId(name);
      if (id === attributedId) continue;
      let slot = this.otherSlots.get(id);
      if (slot === undefined) {
        slot = this.newSlot(id, 'fqdn');
        this.otherSlots.set(id, slot);
      }
      this.rowOf(slot, undefined, null, timeMs);
    }
  }

  private noteUnmanaged(
    slot: EndpointSlot,
    endpoint: FlowEndpoint | undefined,
    ip: string | undefined,
    node: string | null,
    timeMs: number,
  ): void {
    const id = slot.kind === 'pod' ? slot.id : ip ? ipId(ip) : slot.id;
    const seen = this.unmanagedSeen.get(id);
    if (seen !== undefined) {
      seen.flows++;
      if (timeMs < seen.firstSeenMs) seen.firstSeenMs = timeMs;
      if (timeMs > seen.lastSeenMs) seen.lastSeenMs = timeMs;
      if (node !== null) seen.node = node;
      return;
    }
    this.unmanagedSeen.set(id, {
      id,
      ip: ip || null,
      namespace: endpoint?.namespace || null,
      podName: endpoint?.pod_name || null,
      node,
      flows: 1,
      firstSeenMs: timeMs,
      lastSeenMs: timeMs,
    });
    if (this.unmanagedSeen.size > this.maxUnmanaged) {
      this.unmanagedSeen.delete(this.unmanagedSeen.keys().next().value as string);
    }
  }

  /**
   * Rows for every endpoint and edge changed since the last drain, then starts a new delta. The
   * deduplication windows survive drains (the two ends of one exchange may straddle a flush).
   * `maxFlowTimeMs` is the latest flow time of the flows in this batch (0 when there were none).
   */
  drain(): IngestBatch {
    const calls: CallRow[] = [];
    for (const first of this.edges.firsts) {
      for (let edge: EdgeDelta | null = first; edge !== null; edge = edge.next) calls.push(edge.toRow(this.buckets));
    }
    const batch: IngestBatch = { endpoints: this.endpointRows, calls, maxFlowTimeMs: this.maxFlowTimeMs };
    this.edges = new EdgeTable();
    this.edgeCount = 0;
    this.endpointRows = [];
    this.epoch++;
    this.maxFlowTimeMs = 0;
    this.httpPairs.trim();
    this.kinds.trim();
    if (this.slotCount > this.maxCachedEndpoints + this.slotsHeldForWindows) this.forgetEndpoints();
    return batch;
  }

  /**
   * Forgets the cached endpoints (pods come and go) but those the pairing windows hold entries of:
   * these keep their serials, so that the other end of an exchange or TCP open seen after this drain
   * finds its entry (under a new serial it would be counted again). Serials are never reused, so the
   * windows cannot confuse a new endpoint with a forgotten one.
   */
  private forgetEndpoints(): void {
    const held = new Set<number>();
    this.tcpOpens.addSerialsTo(held);
    this.exchanges.addSerialsTo(held);
    let kept = 0;
    for (const [namespace, byName] of this.podSlots) {
      for (const [name, slot] of byName) {
        if (held.has(slot.serial)) kept++;
        else byName.delete(name);
      }
      if (byName.size === 0) this.podSlots.delete(namespace);
    }
    for (const [id, slot] of this.otherSlots) {
      if (held.has(slot.serial)) kept++;
      else this.otherSlots.delete(id);
    }
    this.slotCount = kept;
    this.slotsHeldForWindows = kept;
  }

  /**
   * The pairing windows (TCP opens; L7 exchanges): entries held and how far back in flow time they
   * reach (ms), so that an operator sees whether both ends of an exchange still find each other.
   */
  pairingWindows(): PairingWindowsState {
    return { tcpOpens: this.tcpOpens.state(), exchanges: this.exchanges.state() };
  }

  /** Endpoints whose ids and serials the aggregator keeps now (`maxCachedEndpoints` bounds them). */
  get cachedEndpoints(): number {
    return this.slotCount;
  }

  /** Endpoints seen as `reserved:unmanaged` (Cilium does not manage them: restart those pods). */
  unmanaged(): UnmanagedObservation[] {
    return [...this.unmanagedSeen.values()].map((o) => ({ ...o }));
  }
}
