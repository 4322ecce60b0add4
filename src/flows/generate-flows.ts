import { type CallRow, type EndpointRow, emptyCallRow } from '../model/ingest-rows';
import { addDnsName, normalizeDnsName } from '../model/dns-name';
import {
  CLUSTER_DEPENDENCIES,
  CLUSTER_WORKLOADS,
  type ClusterDependency,
  type ClusterWorkload,
  DEFAULT_STORY_PERIOD_MS,
  INCIDENT_SERVICE,
  clusterStoryAt,
  dailyRhythm,
  generationAt,
} from './cluster-story';
import type { Flow, FlowEndpoint, FlowLayer7, TcpFlags } from './flow';

/**
 * A deterministic generator of realistic Hubble flows, with the ground truth of the graph they must
 * produce. Pure: the same options give the same flows, byte for byte. Streaming: flows are produced
 * as they are iterated, so memory depends on pods and edges, not on the number of flows.
 *
 * The truth is computed from the generator's own decisions (which packet opens a connection, which
 * observation is the first sign of a request, what status a response carries), never by running
 * the aggregator, so comparing the two tests the aggregator.
 */
export interface GenerateFlowsOptions {
  /**
   * `random` (default): `pods` pods of random workloads and `edges` random edges between them, for
   * tests and benchmarks that want sizes. `cluster`: a plausible cluster (see clusterStoryAt) whose
   * traffic changes over time: frontends call APIs, APIs call databases, caches and queues,
   * everyone resolves names through kube-dns, rollouts replace pods, an incident, a deploy.
   */
  scenario?: 'random' | 'cluster';
  /** Pods (including the two CoreDNS pods in kube-system); at least 2. Random scenario only. */
  pods?: number;
  /** Distinct CALLS edges wanted; fewer when the topology or the flow budget cannot hold them. Random scenario only. */
  edges?: number;
  /** Flows to emit, exactly; `Infinity` for a stream without end (then `truth()` is refused). */
  flows: number;
  /** Seed of the pseudo-random sequence. Default 1. */
  seed?: number;
  /** Time of the first flow (epoch ms). Default 2026-01-01T00:00:00Z. */
  startTimeMs?: number;
  /**
   * Mean flows per second of flow time. Default: as dense as a busy Relay (about 48,000/s). In the
   * cluster scenario the rate follows a daily rhythm around this mean (x0.5 at 02:00 UTC, x1.5 at 14:00).
   */
  flowsPerSecond?: number;
  /** Cluster scenario: length of one story in ms (every Deployment rolls out once, one deploy, one incident). Default 6 minutes. */
  storyPeriodMs?: number;
  /** Also keep the truth per edge and per bucket of flow time of this many ms (`truth().buckets`). Default 0: not kept. */
  bucketMs?: number;
}

/** One line of `hubble observe -o jsonpb`. */
export interface GetFlowsResponseJson {
  flow: Flow;
  node_name: string;
  time: string;
}

/** An endpoint as the generator expects it stored (the writer's row without its source). */
export type TruthEndpoint = Omit<EndpointRow, 'source'>;

/** An edge as the generator expects it stored: every count of the writer's row (no sketch, no source). */
export type TruthCall = Omit<CallRow, 'latencySketch' | 'source'>;

/**
 * The counts of one edge within one bucket of flow time `[bucketStartMs, bucketStartMs + bucketMs)`:
 * what the flows dated in it add (firstSeenMs/lastSeenMs of those flows, latency of the responses in it).
 */
export interface TruthBucket extends TruthCall {
  bucketStartMs: number;
}

export interface GroundTruth {
  flows: number;
  endpoints: TruthEndpoint[];
  calls: TruthCall[];
  /** With `bucketMs`: every (edge, bucket) with at least one flow, by bucket then key; summed over buckets they give `calls`. */
  buckets?: TruthBucket[];
}

/** The flows (iterable any number of times, each time the same) and their ground truth. */
export interface GeneratedFlows extends Iterable<GetFlowsResponseJson> {
  readonly options: Readonly<ValidatedOptions>;
  /** The truth of a full iteration (computed by one when none has completed yet). */
  truth(): GroundTruth;
}

/** sfc32: a small, fast, well-distributed PRNG with 128 bits of state. */
function makeRng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

const NAMESPACES = ['shop', 'payments', 'catalog', 'auth', 'search', 'ads', 'billing', 'orders', 'inventory', 'users', 'media', 'analytics'];
const APPS: ReadonlyArray<[string, number]> = [
  ['web', 8080],
  ['api', 8080],
  ['frontend', 3000],
  ['checkout', 8080],
  ['cart', 7070],
  ['db', 5432],
  ['cache', 6379],
  ['queue', 5672],
  ['search', 9200],
  ['auth', 9000],
  ['recommend', 50051],
  ['email', 25],
  ['gateway', 80],
  ['ledger', 8443],
  ['pricing', 8080],
  ['stock', 9090],
  ['profile', 8081],
  ['kafka', 9092],
  ['notify', 8082],
  ['metrics', 9100],
];
const FQDNS = [
  'api.github.com',
  's3.amazonaws.com',
  'api.stripe.com',
  'hooks.slack.com',
  'storage.googleapis.com',
  'login.microsoftonline.com',
  'registry-1.docker.io',
  'pypi.org',
  'sentry.io',
  'api.twilio.com',
];
const HEX = '0123456789abcdef';
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

const F_SYN: TcpFlags = { SYN: true };
const F_SYNACK: TcpFlags = { SYN: true, ACK: true };
const F_PSHACK: TcpFlags = { PSH: true, ACK: true };
const F_ACK: TcpFlags = { ACK: true };
const F_FINACK: TcpFlags = { FIN: true, ACK: true };
const EV_TRACE = { type: 4 };
const EV_L7 = { type: 129 };
const EV_DROP = { type: 1, sub_type: 133 };

/** An endpoint of the generated cluster, as flows show it and as the graph must store it. */
interface GenEndpoint {
  id: string;
  ep: FlowEndpoint;
  ip: string;
  /** Kubernetes node the pod runs on (pods), else undefined. */
  node: string | undefined;
  /** Shared by every address of one graph node (reserved:host has one per Kubernetes node). */
  truth: TruthEndpoint;
  serverPort: number;
}

type EdgeKind = 'http' | 'tcp' | 'dns' | 'drop' | 'world' | 'fqdn' | 'health' | 'icmp';

/** Which ends observe an edge's packets. */
type Sides = 'both' | 'client' | 'server';

interface EdgeSpec {
  kind: EdgeKind;
  client: GenEndpoint;
  server: GenEndpoint;
  /** Server IP for world/FQDN edges (a public address). */
  serverIp: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'ICMPv4';
  verdict: string;
  sides: Sides;
  /** DNS names of the server (FQDN edges). */
  names: string[] | undefined;
  /** Older Cilium: no is_reply; replies carry `reply: true` when legacyReplyFlag. */
  legacy: boolean;
  legacyReplyFlag: boolean;
  httpProtocol: string;
  errorRate: number;
  retryRate: number;
  baseLatencyMs: number;
  queries: string[];
  /** DNS names this edge's lookups get NXDOMAIN for; undefined: names starting with `missing-`. */
  nxQueries: ReadonlySet<string> | undefined;
  weight: number;
  /** HTTP paths requested. */
  paths: readonly string[];
  truth: TruthCall;
  /** Distinct DNS names kept in truth (capped as the aggregator caps them: src/model/dns-name.ts). */
  dnsSet: Set<string>;
}

function emptyCall(key: string, sourceId: string, destinationId: string, port: number, protocol: string, verdict: string): TruthCall {
  const { latencySketch: _sketch, source: _source, ...counts } = emptyCallRow({ key, sourceId, destinationId, port, protocol, verdict }, 'hubble', 0);
  return counts;
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** What the generator decided one flow means for the graph. */
interface Effects {
  open?: boolean;
  request?: string;
  response?: { status?: number; rcode?: number; error: boolean; latencyNs?: string; method?: string };
  dnsQuery?: string;
  drop?: string;
  l7Protocol?: string;
}

const NO_EFFECTS: Effects = {};

/** Endpoints every topology has: reserved identities, hosts, DNS names; and the edge a spec describes. */
abstract class BaseTopology {
  readonly endpoints: GenEndpoint[] = [];
  readonly pods: GenEndpoint[] = [];
  readonly coredns: GenEndpoint[] = [];
  readonly host = new Map<string, GenEndpoint>();
  readonly world: GenEndpoint;
  readonly health: GenEndpoint;
  readonly remoteNode: GenEndpoint;
  readonly fqdns = new Map<string, GenEndpoint>();

  constructor(
    protected readonly rng: () => number,
    readonly nodes: readonly string[],
  ) {
    this.world = this.reserved('world', 2, '0.0.0.0');
    this.health = this.reserved('health', 4, '10.255.0.4');
    this.remoteNode = this.reserved('remote-node', 6, '172.18.0.254');
  }

  /** The next edge to carry an exchange starting at `timeMs`; undefined when there is none. */
  abstract next(timeMs: number): EdgeSpec | undefined;

  /** Every edge that may have carried flows. */
  abstract allEdges(): Iterable<EdgeSpec>;

  protected pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)];
  }

  protected token(alphabet: string, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(this.rng() * alphabet.length)];
    return s;
  }

  private reserved(name: string, identity: number, ip: string): GenEndpoint {
    const g: GenEndpoint = {
      id: `reserved:${name}`,
      ep: { identity, labels: [`reserved:${name}`] },
      ip,
      node: undefined,
      truth: {
        id: `reserved:${name}`,
        kind: 'reserved',
        name,
        namespace: null,
        labels: null,
        workload: null,
        workloadKind: null,
        identity,
        node: null,
        cluster: null,
        firstSeenMs: 0,
        lastSeenMs: 0,
      },
      serverPort: 0,
    };
    this.endpoints.push(g);
    return g;
  }

  hostOf(node: string): GenEndpoint {
    // One reserved:host node in the graph, but each Kubernetes node has its own address.
    let h = this.host.get(node);
    if (h === undefined) {
      const shared = this.host.get('') ?? this.reserved('host', 1, '');
      this.host.set('', shared);
      h = { ...shared, ip: `172.18.0.${this.nodes.indexOf(node) + 2}` };
      // The same truth object: firstSeen/lastSeen are of the one graph node.
      h.truth = shared.truth;
      this.host.set(node, h);
    }
    return h;
  }

  fqdn(name: string): GenEndpoint {
    let f = this.fqdns.get(name);
    if (f === undefined) {
      f = {
        id: `fqdn:${name}`,
        ep: this.world.ep,
        ip: '',
        node: undefined,
        truth: { id: `fqdn:${name}`, kind: 'fqdn', name, namespace: null, labels: null, workload: null, workloadKind: null, identity: null, node: null, cluster: null, firstSeenMs: 0, lastSeenMs: 0 },
        serverPort: 443,
      };
      this.fqdns.set(name, f);
      this.endpoints.push(f);
    }
    return f;
  }

  /** A pod endpoint with the labels Cilium reports for it (its identity labels, `k8s:` prefixed). */
  protected podEndpoint(index: number, namespace: string, podName: string, labels: readonly string[], workload: string, workloadKind: string, identity: number, port: number, node: string): GenEndpoint {
    const pairs = [...labels, `io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${namespace}`, 'io.cilium.k8s.policy.cluster=default', `io.cilium.k8s.policy.serviceaccount=${workload}`, `io.kubernetes.pod.namespace=${namespace}`];
    const id = `${namespace}/${podName}`;
    const g: GenEndpoint = {
      id,
      ep: {
        ID: 100 + index,
        identity,
        cluster_name: 'default',
        namespace,
        labels: pairs.map((p) => `k8s:${p}`),
        pod_name: podName,
        workloads: [{ name: workload, kind: workloadKind }],
      },
      ip: `10.${1 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`,
      node,
      truth: { id, kind: 'pod', name: podName, namespace, labels: [...pairs].sort(), workload, workloadKind, identity, node: null, cluster: 'default', firstSeenMs: 0, lastSeenMs: 0 },
      serverPort: port,
    };
    this.pods.push(g);
    this.endpoints.push(g);
    return g;
  }

  /** An edge's spec with the defaults every kind shares; `fields` set what differs. */
  protected spec(kind: EdgeKind, client: GenEndpoint, server: GenEndpoint, port: number, fields: Partial<EdgeSpec>): EdgeSpec {
    const protocol = fields.protocol ?? 'TCP';
    const verdict = fields.verdict ?? 'FORWARDED';
    const key = `${client.id}|${server.id}|${port}|${protocol}|${verdict}`;
    return {
      kind,
      client,
      server,
      serverIp: server.ip,
      port,
      protocol,
      verdict,
      sides: 'both',
      names: undefined,
      legacy: false,
      legacyReplyFlag: false,
      httpProtocol: 'HTTP/1.1',
      errorRate: 0,
      retryRate: 0.5,
      baseLatencyMs: 2,
      queries: [],
      nxQueries: undefined,
      weight: 1,
      paths: PATHS,
      ...fields,
      truth: emptyCall(key, client.id, server.id, port, protocol, verdict),
      dnsSet: new Set(),
    };
  }
}

/** A cluster of `pods` random workloads and `edges` random edges between them (the sizes tests and benchmarks ask for). */
class RandomTopology extends BaseTopology {
  readonly edges: EdgeSpec[] = [];
  readonly cumulativeWeights: Float64Array;
  private servers: GenEndpoint[] = [];
  private readonly fqdnPool = [...FQDNS, ...Array.from({ length: 20 }, (_, i) => `svc${i}.example.com`)];
  private nextIndex = 0;

  constructor(rng: () => number, pods: number, edges: number) {
    super(rng, Array.from({ length: Math.max(1, Math.ceil(pods / 40)) }, (_, i) => `worker-${i + 1}`));
    this.buildPods(pods);
    this.servers = this.pods.filter((p) => p.serverPort !== 53);
    if (this.servers.length < 2) this.servers = this.pods;
    this.buildEdges(edges);
    this.cumulativeWeights = new Float64Array(this.edges.length);
    let sum = 0;
    this.edges.forEach((e, i) => {
      sum += e.weight;
      this.cumulativeWeights[i] = sum;
    });
  }

  next(): EdgeSpec | undefined {
    if (this.edges.length === 0) return undefined;
    // Every edge once first (so that each exists when the budget allows), then by weight.
    if (this.nextIndex < this.edges.length) return this.edges[this.nextIndex++];
    return pickWeighted(this.rng, this.cumulativeWeights, this.edges);
  }

  allEdges(): Iterable<EdgeSpec> {
    return this.edges;
  }

  private addPod(namespace: string, podName: string, app: string, workload: string, workloadKind: string, identity: number, port: number): GenEndpoint {
    const index = this.pods.length;
    return this.podEndpoint(index, namespace, podName, [`app=${app}`], workload, workloadKind, identity, port, this.nodes[index % this.nodes.length]);
  }

  private buildPods(count: number): void {
    const corednsCount = count >= 4 ? 2 : 1;
    const rs = this.token(HEX, 10);
    for (let i = 0; i < corednsCount; i++) {
      this.coredns.push(this.addPod('kube-system', `coredns-${rs}-${this.token(ALNUM, 5)}`, 'kube-dns', 'coredns', 'Deployment', 100, 53));
    }
    const nsCount = Math.min(50, Math.max(2, Math.ceil(count / 25)));
    const namespaces = Array.from({ length: nsCount }, (_, i) => (i < NAMESPACES.length ? NAMESPACES[i] : `team-${i}`));
    const usedWorkloads = new Set<string>();
    let identity = 10000;
    while (this.pods.length < count) {
      const namespace = this.pick(namespaces);
      const [app, port] = this.pick(APPS);
      let workload = app;
      for (let n = 2; usedWorkloads.has(`${namespace}/${workload}`); n++) workload = `${app}-${n}`;
      usedWorkloads.add(`${namespace}/${workload}`);
      const r = this.rng();
      const kind = r < 0.75 ? 'Deployment' : r < 0.95 ? 'StatefulSet' : 'DaemonSet';
      const replicas = Math.min(count - this.pods.length, 1 + Math.floor(this.rng() * 4));
      const hash = this.token(HEX, 10);
      identity++;
      for (let i = 0; i < replicas; i++) {
        const podName =
          kind === 'Deployment' ? `${workload}-${hash}-${this.token(ALNUM, 5)}` : kind === 'StatefulSet' ? `${workload}-${i}` : `${workload}-${this.token(ALNUM, 5)}`;
        this.addPod(namespace, podName, app, workload, kind, identity, port);
      }
    }
  }

  private buildEdges(count: number): void {
    const keys = new Set<string>();
    const weights: Array<[EdgeKind, number]> = [
      ['http', 0.35],
      ['tcp', 0.2],
      ['dns', 0.15],
      ['drop', 0.1],
      ['health', 0.1],
      ['world', 0.04],
      ['fqdn', 0.05],
      ['icmp', 0.01],
    ];
    let failures = 0;
    while (this.edges.length < count && failures < 1000 + count * 5) {
      let r = this.rng();
      let kind: EdgeKind = 'http';
      for (const [k, w] of weights) {
        if (r < w) {
          kind = k;
          break;
        }
        r -= w;
      }
      const spec = this.makeEdge(kind);
      if (spec === undefined || keys.has(spec.truth.key)) {
        failures++;
        continue;
      }
      keys.add(spec.truth.key);
      this.edges.push(spec);
    }
  }

  private makeEdge(kind: EdgeKind): EdgeSpec | undefined {
    const pods = this.servers;
    let client = this.pick(pods);
    let server: GenEndpoint;
    let port: number;
    let protocol: EdgeSpec['protocol'] = 'TCP';
    let verdict = 'FORWARDED';
    let sides: Sides = 'both';
    let names: string[] | undefined;
    let serverIp = '';
    switch (kind) {
      case 'http':
      case 'tcp':
      case 'drop': {
        server = this.pick(pods);
        if (server === client) return undefined;
        port = server.serverPort;
        if (kind === 'drop') {
          verdict = 'DROPPED';
          sides = this.rng() < 0.5 ? 'client' : 'server';
          if (this.rng() < 0.3) {
            protocol = 'UDP';
            port = 8125;
          }
        }
        break;
      }
      case 'dns':
        server = this.pick(this.coredns);
        port = 53;
        protocol = 'UDP';
        break;
      case 'health':
        server = this.pick(this.pods);
        client = this.hostOf(server.node ?? '');
        port = server.serverPort === 53 ? 8080 : server.serverPort;
        sides = 'server';
        break;
      case 'world':
        server = this.world;
        port = this.rng() < 0.8 ? 443 : 80;
        sides = 'client';
        serverIp = `203.0.113.${1 + Math.floor(this.rng() * 250)}`;
        break;
      case 'fqdn': {
        const first = this.pick(this.fqdnPool);
        names = this.rng() < 0.3 ? [first, `cdn.${first}`] : [first];
        server = this.fqdn([...names].sort()[0]);
        for (const n of names) this.fqdn(n);
        port = 443;
        sides = 'client';
        serverIp = `198.51.100.${1 + Math.floor(this.rng() * 250)}`;
        break;
      }
      case 'icmp':
        client = this.rng() < 0.5 ? this.remoteNode : this.hostOf(this.pick(this.nodes));
        server = this.health;
        port = 0;
        protocol = 'ICMPv4';
        sides = 'server';
        break;
    }
    const key = `${client.id}|${server.id}|${port}|${protocol}|${verdict}`;
    // Older Cilium (no is_reply) on some plain TCP edges whose server port the port rule recognizes.
    const legacy = (kind === 'tcp' || kind === 'health') && port < 32768 && this.rng() < 0.2;
    if (kind === 'http' && this.rng() < 0.25) sides = 'client';
    return {
      kind,
      client,
      server,
      serverIp: serverIp || server.ip,
      port,
      protocol,
      verdict,
      sides,
      names,
      legacy,
      legacyReplyFlag: legacy && this.rng() < 0.5,
      httpProtocol: this.rng() < 0.7 ? 'HTTP/1.1' : 'HTTP/2',
      errorRate: this.rng() < 0.3 ? this.rng() * 0.2 : 0,
      retryRate: 0.5,
      baseLatencyMs: 0.5 + this.rng() * 40,
      queries: kind === 'dns' ? this.dnsQueries() : [],
      nxQueries: undefined,
      weight: Math.exp(this.rng() * 3),
      paths: PATHS,
      truth: emptyCall(key, client.id, server.id, port, protocol, verdict),
      dnsSet: new Set(),
    };
  }

  private dnsQueries(): string[] {
    const targets = this.servers;
    const out: string[] = [];
    const n = 1 + Math.floor(this.rng() * 4);
    for (let i = 0; i < n; i++) {
      const r = this.rng();
      if (r < 0.15) out.push(`missing-${this.token(ALNUM, 4)}.svc.cluster.local.`);
      else if (r < 0.3) out.push(`${this.pick(FQDNS)}.`);
      else {
        const t = this.pick(targets);
        out.push(`${t.truth.workload}.${t.truth.namespace}.svc.cluster.local.`);
      }
    }
    return out;
  }
}

/** FNV-1a of a string: names derived from it are the same in every run, so a restarted demo keeps them. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** `length` characters of Kubernetes' name alphabet (no vowels, no look-alikes), derived from `seed`. */
function safeName(seed: string, length: number): string {
  let h = fnv1a(seed);
  let s = '';
  for (let i = 0; i < length; i++) {
    if (i % 6 === 5) h = fnv1a(`${seed}#${i}`);
    s += ALNUM[h % ALNUM.length];
    h = Math.floor(h / ALNUM.length);
  }
  return s;
}

/** One dependency of the cluster, resolved to its workloads. */
interface ResolvedDependency {
  dep: ClusterDependency;
  client: ClusterWorkload | 'world' | 'host' | 'remote-node';
  server: ClusterWorkload | string;
  kind: EdgeKind;
}

/**
 * The `cluster` scenario: CLUSTER_WORKLOADS calling one another as CLUSTER_DEPENDENCIES say, every
 * pod resolving the names it calls through kube-dns, the kubelet probing every pod, ICMP health
 * checks between nodes; pods named as their controllers name them, replaced by rollouts, and the
 * incident and deploys of clusterStoryAt. Edges are made as pods first call each other.
 */
class ClusterTopology extends BaseTopology {
  private readonly specs = new Map<string, EdgeSpec>();
  private readonly podsByKey = new Map<string, GenEndpoint>();
  private readonly byId = new Map<string, ClusterWorkload>();
  private readonly identities = new Map<ClusterWorkload, number>();
  private readonly deps: Record<1 | 2, { items: ResolvedDependency[]; cumulative: Float64Array }>;
  private readonly callersOfIncident: Set<string>;
  private readonly worldClient: GenEndpoint;

  constructor(
    rng: () => number,
    private readonly periodMs: number,
  ) {
    super(rng, ['worker-1', 'worker-2', 'worker-3']);
    CLUSTER_WORKLOADS.forEach((w, i) => {
      this.byId.set(`${w.namespace}/${w.name}`, w);
      this.identities.set(w, 10_001 + i);
    });
    // Requests from the internet come from public addresses; the graph has one reserved:world.
    this.worldClient = { ...this.world, ip: '203.0.113.10' };
    const resolved: ResolvedDependency[] = CLUSTER_DEPENDENCIES.map((dep) => {
      const server = dep.to.startsWith('fqdn:') ? dep.to : this.workload(dep.to);
      const client = dep.from === 'world' ? 'world' : this.workload(dep.from);
      const kind: EdgeKind = dep.dropped ? 'drop' : typeof server === 'string' ? 'fqdn' : server.serves === 'http' ? 'http' : 'tcp';
      return { dep, client, server, kind };
    });
    const dns = this.workload('kube-system/coredns');
    for (const w of CLUSTER_WORKLOADS) {
      if (w !== dns) resolved.push({ dep: { from: `${w.namespace}/${w.name}`, to: 'kube-system/coredns', weight: 0.3 }, client: w, server: dns, kind: 'dns' });
      resolved.push({ dep: { from: 'host', to: `${w.namespace}/${w.name}`, weight: 0.05 }, client: 'host', server: w, kind: 'health' });
    }
    resolved.push({ dep: { from: 'remote-node', to: 'reserved:health', weight: 0.05 }, client: 'remote-node', server: 'reserved:health', kind: 'icmp' });
    const build = (version: 1 | 2) => {
      const items = resolved.filter((r) => r.dep.version === undefined || r.dep.version === version);
      const cumulative = new Float64Array(items.length);
      let sum = 0;
      items.forEach((r, i) => (cumulative[i] = sum += r.dep.weight));
      return { items, cumulative };
    };
    this.deps = { 1: build(1), 2: build(2) };
    this.callersOfIncident = new Set(CLUSTER_DEPENDENCIES.filter((d) => d.to === INCIDENT_SERVICE && !d.dropped).map((d) => d.from));
  }

  private workload(id: string): ClusterWorkload {
    const w = this.byId.get(id);
    if (w === undefined) throw new Error(`cluster dependency names an unknown workload: ${id}`);
    return w;
  }

  /** A pod of `w` running at `timeMs`, picked at random; made when first seen. */
  private podOf(w: ClusterWorkload, timeMs: number): GenEndpoint {
    const id = `${w.namespace}/${w.name}`;
    const daemon = w.kind === 'DaemonSet';
    const replica = Math.floor(this.rng() * (daemon ? this.nodes.length : w.replicas));
    const generation = w.kind === 'StatefulSet' ? 0 : generationAt(id, timeMs, this.periodMs);
    const key = `${id}#${generation}#${replica}`;
    let pod = this.podsByKey.get(key);
    if (pod === undefined) {
      const podName =
        w.kind === 'StatefulSet'
          ? `${w.name}-${replica}`
          : daemon
            ? `${w.name}-${safeName(key, 5)}`
            : // Deployment -> ReplicaSet `name-<pod-template-hash>` -> pod `name-<hash>-<5 characters>`.
              `${w.name}-${safeName(`${id}#${generation}`, 10)}-${safeName(key, 5)}`;
      const node = daemon ? this.nodes[replica] : this.nodes[fnv1a(key) % this.nodes.length];
      pod = this.podEndpoint(this.pods.length, w.namespace, podName, w.labels, w.name, w.kind, this.identities.get(w) ?? 0, w.port, node);
      if (id === 'kube-system/coredns') this.coredns.push(pod);
      this.podsByKey.set(key, pod);
    }
    return pod;
  }

  private edge(r: ResolvedDependency, client: GenEndpoint, server: GenEndpoint, port: number): EdgeSpec {
    const verdict = r.kind === 'drop' ? 'DROPPED' : 'FORWARDED';
    const protocol = r.kind === 'dns' ? 'UDP' : r.kind === 'icmp' ? 'ICMPv4' : 'TCP';
    const key = `${client.id}|${server.id}|${port}|${protocol}|${verdict}`;
    let spec = this.specs.get(key);
    if (spec === undefined) {
      const w = typeof r.server === 'string' ? undefined : r.server;
      const fields: Partial<EdgeSpec> = { protocol, verdict, httpProtocol: w?.httpProtocol ?? 'HTTP/1.1', baseLatencyMs: w?.latencyMs ?? 80, paths: w?.paths ?? PATHS, errorRate: r.kind === 'http' ? 0.002 : 0 };
      if (r.kind === 'fqdn') {
        const name = (r.server as string).slice('fqdn:'.length);
        Object.assign(fields, { names: [name], sides: 'client', serverIp: `198.51.100.${1 + (fnv1a(name) % 250)}` });
      } else if (r.kind === 'drop') {
        // Denied by the server's ingress policy: dropped where the server is.
        fields.sides = 'server';
      } else if (r.kind === 'health' || r.kind === 'icmp' || r.client === 'world') {
        fields.sides = 'server';
      } else if (r.kind === 'dns') {
        Object.assign(fields, this.dnsQueriesOf(r.client as ClusterWorkload));
      }
      spec = this.spec(r.kind, client, server, port, fields);
      this.specs.set(key, spec);
    }
    return spec;
  }

  /** The names a workload looks up: the services and DNS names it calls, some tried along the search path first (NXDOMAIN, as with ndots:5). */
  private dnsQueriesOf(w: ClusterWorkload): Pick<EdgeSpec, 'queries' | 'nxQueries'> {
    const queries: string[] = [];
    const nx = new Set<string>();
    for (const d of CLUSTER_DEPENDENCIES) {
      if (d.from !== `${w.namespace}/${w.name}` || d.dropped) continue;
      if (d.to.startsWith('fqdn:')) {
        const name = d.to.slice('fqdn:'.length);
        const searched = `${name}.${w.namespace}.svc.cluster.local.`;
        queries.push(`${name}.`, searched);
        nx.add(searched);
      } else {
        const [ns, name] = d.to.split('/');
        queries.push(`${name}.${ns}.svc.cluster.local.`);
      }
    }
    if (queries.length === 0) queries.push('kubernetes.default.svc.cluster.local.');
    return { queries, nxQueries: nx };
  }

  next(timeMs: number): EdgeSpec {
    const story = clusterStoryAt(timeMs, this.periodMs);
    const { items, cumulative } = this.deps[story.version];
    const r = pickWeighted(this.rng, cumulative, items);
    let client: GenEndpoint;
    let server: GenEndpoint;
    let port: number;
    if (r.kind === 'icmp') {
      client = this.rng() < 0.5 ? this.remoteNode : this.hostOf(this.pick(this.nodes));
      server = this.health;
      port = 0;
    } else {
      server = typeof r.server === 'string' ? this.fqdn(r.server.slice('fqdn:'.length)) : this.podOf(r.server, timeMs);
      client = r.client === 'world' ? this.worldClient : r.client === 'host' ? this.hostOf(server.node ?? '') : this.podOf(r.client as ClusterWorkload, timeMs);
      // The kubelet probes CoreDNS on its health port, not on 53.
      port = r.kind === 'fqdn' ? 443 : r.kind === 'health' && server.serverPort === 53 ? 8080 : server.serverPort;
    }
    const spec = this.edge(r, client, server, port);
    if (spec.kind === 'http') {
      // The incident: the service answers 5xx and slowly; its callers wait on it, so they are slow too.
      const to = r.dep.to;
      const w = r.server as ClusterWorkload;
      spec.errorRate = story.incident && to === INCIDENT_SERVICE ? 0.4 : 0.002;
      spec.baseLatencyMs = w.latencyMs * (story.incident ? (to === INCIDENT_SERVICE ? 3 : this.callersOfIncident.has(to) ? 4 : 1) : 1);
    }
    return spec;
  }

  allEdges(): Iterable<EdgeSpec> {
    return this.specs.values();
  }
}

/** Adds what one flow means to an edge's truth (`dnsSet`: the distinct names already in `t.dnsQueries`). */
function addToTruth(t: TruthCall, dnsSet: Set<string>, timeMs: number, effects: Effects): void {
  if (t.flows === 0) t.firstSeenMs = timeMs;
  t.flows++;
  t.lastSeenMs = timeMs;
  if (effects === NO_EFFECTS) return;
  if (effects.open) t.connections++;
  if (effects.drop) bump(t.dropReasons, effects.drop);
  if (effects.l7Protocol && !t.l7Protocols.includes(effects.l7Protocol)) t.l7Protocols.push(effects.l7Protocol);
  if (effects.dnsQuery !== undefined) {
    const before = dnsSet.size;
    addDnsName(dnsSet, effects.dnsQuery);
    if (dnsSet.size > before) t.dnsQueries.push(normalizeDnsName(effects.dnsQuery));
  }
  if (effects.request !== undefined) {
    t.requests++;
    if (effects.request) bump(t.methodCounts, effects.request);
  }
  const res = effects.response;
  if (res) {
    t.responses++;
    if (res.status !== undefined) bump(t.statusCounts, String(res.status));
    if (res.rcode !== undefined) bump(t.rcodeCounts, String(res.rcode));
    if (res.error) t.errors++;
    if (res.method) bump(t.methodCounts, res.method);
    if (res.latencyNs !== undefined) {
      const ms = Number(res.latencyNs) / 1e6;
      t.latencyCount++;
      t.latencySumMs += ms;
      if (t.latencyCount === 1 || ms < t.latencyMinMs) t.latencyMinMs = ms;
      if (ms > t.latencyMaxMs) t.latencyMaxMs = ms;
    }
  }
}

/** Emits flows for a topology; truth is updated by each emitted flow. */
class Emitter {
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
    this.nsInMs += this.gapNs === undefined ? 1000 + Math.floor(this.rng() * 40000) : Math.max(1, Math.floor(this.gapNs(this.ms) * (0.5 + this.rng())));
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
      const ports = fromServer ? { source_port: spec.port, destination_port: clientPort } : { source_port: clientPort, destination_port: spec.port };
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
        b = { bucket: { ...emptyCall(t.key, t.sourceId, t.destinationId, t.port, t.protocol, t.verdict), bucketStartMs: start }, dnsSet: new Set() };
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

/** Observation order of one packet: at the sender's side first, then at the receiver's. */
function sidesOf(spec: EdgeSpec, fromServer: boolean): Array<'EGRESS' | 'INGRESS'> {
  if (spec.sides === 'client') return ['EGRESS'];
  if (spec.sides === 'server') return ['INGRESS'];
  return fromServer ? ['INGRESS', 'EGRESS'] : ['EGRESS', 'INGRESS'];
}

/** One packet, observed at the spec's sides; `first` effects go with the first observation only. */
function packet(em: Emitter, spec: EdgeSpec, fromServer: boolean, clientPort: number, flags: TcpFlags | undefined, first: Effects, l7?: FlowLayer7): void {
  let effects = first;
  for (const side of sidesOf(spec, fromServer)) {
    em.emit(spec, fromServer, side, clientPort, { flags }, l7, effects);
    effects = NO_EFFECTS;
  }
}

function tcpOpen(em: Emitter, spec: EdgeSpec, clientPort: number): void {
  packet(em, spec, false, clientPort, F_SYN, { open: true });
  packet(em, spec, true, clientPort, F_SYNACK, NO_EFFECTS);
}

function tcpClose(em: Emitter, spec: EdgeSpec, clientPort: number): void {
  packet(em, spec, false, clientPort, F_FINACK, NO_EFFECTS);
  packet(em, spec, true, clientPort, F_ACK, NO_EFFECTS);
}

function latencyNs(rng: () => number, baseMs: number): string {
  // A long-tailed latency: base * (0.5 .. ~20), in whole microseconds.
  const factor = 0.5 + rng() * rng() * rng() * 20;
  return String(Math.round(baseMs * factor * 1000) * 1000);
}

/** One unit of traffic on an edge (a connection, a DNS lookup, a drop, a ping). */
function exchange(em: Emitter, rng: () => number, spec: EdgeSpec): void {
  const clientPort = em.nextClientPort();
  switch (spec.kind) {
    case 'tcp':
    case 'world':
    case 'fqdn':
    case 'health': {
      tcpOpen(em, spec, clientPort);
      const rounds = 1 + Math.floor(rng() * 3);
      for (let i = 0; i < rounds; i++) {
        packet(em, spec, false, clientPort, F_PSHACK, NO_EFFECTS);
        packet(em, spec, true, clientPort, F_PSHACK, NO_EFFECTS);
      }
      tcpClose(em, spec, clientPort);
      return;
    }
    case 'http': {
      tcpOpen(em, spec, clientPort);
      const requests = 1 + Math.floor(rng() * 3);
      for (let i = 0; i < requests; i++) httpRequest(em, rng, spec, clientPort);
      tcpClose(em, spec, clientPort);
      return;
    }
    case 'dns': {
      const query = spec.queries[Math.floor(rng() * spec.queries.length)];
      const nx = spec.nxQueries ? spec.nxQueries.has(query) : query.startsWith('missing-');
      for (const qtype of ['A', 'AAAA']) {
        packet(em, spec, false, clientPort, undefined, NO_EFFECTS);
        // Cilium's DNS proxy sees lookups at the client's egress only.
        em.emit(spec, false, 'EGRESS', clientPort, {}, { type: 'REQUEST', dns: { query, observation_source: 'proxy', qtypes: [qtype] } }, { request: '', dnsQuery: query, l7Protocol: 'DNS' });
        const rcode = nx ? 3 : 0;
        const lat = latencyNs(rng, 0.3);
        const dns = nx ? { query, rcode, observation_source: 'proxy', qtypes: [qtype] } : { query, ips: ['10.96.0.10'], ttl: 30, observation_source: 'proxy', qtypes: [qtype], rrtypes: [qtype] };
        em.emit(spec, true, 'EGRESS', clientPort, {}, { type: 'RESPONSE', latency_ns: lat, dns }, {
          response: { rcode, error: nx, latencyNs: lat },
          dnsQuery: query,
          l7Protocol: 'DNS',
        });
        packet(em, spec, true, clientPort, undefined, NO_EFFECTS);
      }
      return;
    }
    case 'drop': {
      // A denied attempt: one packet, dropped where the policy is, no is_reply.
      const side = spec.sides === 'client' ? 'EGRESS' : 'INGRESS';
      em.emit(spec, false, side, clientPort, { flags: spec.protocol === 'TCP' ? F_SYN : undefined }, undefined, {
        open: spec.protocol === 'TCP',
        drop: 'POLICY_DENIED',
      });
      return;
    }
    case 'icmp': {
      em.emit(spec, false, 'INGRESS', 0, { icmpType: 8 }, undefined, NO_EFFECTS);
      em.emit(spec, true, 'INGRESS', 0, { icmpType: 0 }, undefined, NO_EFFECTS);
      return;
    }
  }
}

const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const PATHS = ['/', '/api/v1/items', '/api/v1/orders', '/healthz', '/login', '/search?q=x'];

/** A request through the proxies (client egress, server ingress), its response, maybe a retry. */
function httpRequest(em: Emitter, rng: () => number, spec: EdgeSpec, clientPort: number): void {
  const id = em.nextRequestId();
  const method = METHODS[Math.floor(rng() * METHODS.length)];
  const url = `http://${spec.server.truth.workload ?? 'svc'}.${spec.server.truth.namespace ?? 'default'}.svc.cluster.local${spec.paths[Math.floor(rng() * spec.paths.length)]}`;
  const both = spec.sides === 'both';
  for (let attempt = 0; attempt < 3; attempt++) {
    const error = rng() < spec.errorRate;
    const status = error ? 503 : method === 'POST' ? 201 : rng() < 0.03 ? 404 : 200;
    const headers = [
      { key: ':authority', value: `${spec.server.truth.workload}:${spec.port}` },
      { key: 'X-Request-Id', value: id },
    ];
    const request: FlowLayer7 = { type: 'REQUEST', http: { method, url, protocol: spec.httpProtocol, headers } };
    em.emit(spec, false, 'EGRESS', clientPort, {}, request, { request: method, l7Protocol: spec.httpProtocol });
    if (both) em.emit(spec, false, 'INGRESS', clientPort, {}, request, NO_EFFECTS);
    const serverLatency = latencyNs(rng, spec.baseLatencyMs);
    const clientLatency = String(Number(serverLatency) + 200_000 + Math.floor(rng() * 100) * 1000);
    const response = (lat: string): FlowLayer7 => ({ type: 'RESPONSE', latency_ns: lat, http: { code: status, method, url, protocol: spec.httpProtocol, headers } });
    // The first end to see the response is the one that counts (and whose latency is kept).
    const counted = { response: { status, error: status >= 500, latencyNs: both ? serverLatency : clientLatency }, l7Protocol: spec.httpProtocol };
    if (both) em.emit(spec, true, 'INGRESS', clientPort, {}, response(serverLatency), counted);
    em.emit(spec, true, 'EGRESS', clientPort, {}, response(clientLatency), both ? NO_EFFECTS : counted);
    if (!error || rng() >= spec.retryRate) return;
  }
}

/** An item picked with probability proportional to its weight (`cumulative`: running sums of the weights). */
function pickWeighted<T>(rng: () => number, cumulative: Float64Array, items: readonly T[]): T {
  const target = rng() * cumulative[cumulative.length - 1];
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return items[lo];
}

/** The options with their defaults, checked. */
export interface ValidatedOptions {
  scenario: 'random' | 'cluster';
  pods: number;
  edges: number;
  flows: number;
  seed: number;
  startTimeMs: number;
  flowsPerSecond: number | undefined;
  storyPeriodMs: number;
  bucketMs: number;
}

function validate(options: GenerateFlowsOptions): ValidatedOptions {
  const problems: string[] = [];
  const scenario = options.scenario ?? 'random';
  const int = (name: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) problems.push(`${name} must be an integer >= ${min}, got ${String(v)}`);
  };
  const positive = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) problems.push(`${name} must be a number > 0, got ${String(v)}`);
  };
  if (scenario !== 'random' && scenario !== 'cluster') problems.push(`scenario must be random or cluster, got ${String(scenario)}`);
  if (scenario === 'random') {
    int('pods', options.pods, 2);
    int('edges', options.edges, 1);
  }
  if (options.flows !== Infinity) int('flows', options.flows, 0);
  if (options.seed !== undefined) int('seed', options.seed, 0);
  if (options.flowsPerSecond !== undefined) positive('flowsPerSecond', options.flowsPerSecond);
  if (options.storyPeriodMs !== undefined) int('storyPeriodMs', options.storyPeriodMs, 1000);
  if (options.bucketMs !== undefined) int('bucketMs', options.bucketMs, 0);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return {
    scenario,
    pods: options.pods ?? 0,
    edges: options.edges ?? 0,
    flows: options.flows,
    seed: options.seed ?? 1,
    startTimeMs: options.startTimeMs ?? Date.UTC(2026, 0, 1),
    flowsPerSecond: options.flowsPerSecond,
    storyPeriodMs: options.storyPeriodMs ?? DEFAULT_STORY_PERIOD_MS,
    bucketMs: options.bucketMs ?? 0,
  };
}

/** One full, independent run: topology, flows, truth. */
function* run(opts: ValidatedOptions, onDone: (truth: GroundTruth) => void): Generator<GetFlowsResponseJson> {
  const rng = makeRng(opts.seed);
  const topo: BaseTopology = opts.scenario === 'cluster' ? new ClusterTopology(rng, opts.storyPeriodMs) : new RandomTopology(rng, opts.pods, opts.edges);
  const rate = opts.flowsPerSecond;
  const gapNs = rate === undefined ? undefined : opts.scenario === 'cluster' ? (ms: number) => 1e9 / (rate * dailyRhythm(ms)) : () => 1e9 / rate;
  const em = new Emitter(rng, opts.flows, opts.startTimeMs, opts.seed, gapNs, opts.bucketMs);
  em.fqdnResolver = (name) => topo.fqdn(name);
  while (!em.done) {
    const spec = topo.next(em.nowMs);
    if (spec === undefined) break;
    exchange(em, rng, spec);
    for (const item of em.out) yield item;
    em.out.length = 0;
  }
  const calls: TruthCall[] = [];
  for (const e of topo.allEdges()) if (e.truth.flows > 0) calls.push({ ...e.truth });
  const truth: GroundTruth = { flows: em.emitted, endpoints: [...em.seen].map((t) => ({ ...t, labels: t.labels && [...t.labels] })), calls };
  if (opts.bucketMs > 0) truth.buckets = [...em.buckets.values()].map((b) => b.bucket).sort((a, b) => a.bucketStartMs - b.bucketStartMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  onDone(truth);
}

/** Realistic flows and their ground truth; see GenerateFlowsOptions. */
export function generateFlows(options: GenerateFlowsOptions): GeneratedFlows {
  const opts = validate(options);
  let truth: GroundTruth | undefined;
  return {
    options: opts,
    [Symbol.iterator]: () =>
      run(opts, (t) => {
        truth = t;
      }),
    truth(): GroundTruth {
      if (opts.flows === Infinity) throw new RangeError('truth() needs a finite number of flows; this generator was asked for flows: Infinity');
      let result = truth;
      if (result === undefined) {
        for (const _ of run(opts, (t) => (result = t))) void _;
      }
      if (result === undefined) throw new Error('the generator ended without its ground truth');
      truth = result;
      return result;
    },
  };
}
