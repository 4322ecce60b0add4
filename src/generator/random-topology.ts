import { pickWeighted } from './seeded-random';
import { BaseTopology, type EdgeKind, type EdgeSpec, type GenEndpoint, type Sides } from './topology';
import { emptyCall } from './truth';
import type { EdgeShape, FlowMix } from './validate-options';
import { ALNUM, APPS, FQDNS, HEX, NAMESPACES, ROUTES } from './words';
import { callKey } from '../model/endpoint-ids';

/** Share of each kind of edge, per mix (each sums to 1). */
const MIX_WEIGHTS: Record<FlowMix, ReadonlyArray<readonly [EdgeKind, number]>> = {
  realistic: [
    ['http', 0.35],
    ['tcp', 0.2],
    ['dns', 0.15],
    ['drop', 0.1],
    ['health', 0.1],
    ['world', 0.04],
    ['fqdn', 0.05],
    ['icmp', 0.01],
  ],
  l4: [
    ['tcp', 0.95],
    ['drop', 0.05],
  ],
  http: [
    ['http', 0.5],
    ['tcp', 0.45],
    ['drop', 0.05],
  ],
  dns: [
    ['dns', 0.34],
    ['tcp', 0.61],
    ['drop', 0.05],
  ],
};

/**
 * With edge shape `workloads`, the share of pod-to-pod edges that start a new dependency between
 * two workloads; the others are drawn along a dependency made before (between replicas of its
 * ends). With 1-4 replicas per workload, a dependency then holds about three calls.
 */
const NEW_DEPENDENCY_SHARE = 1 / 6;

/** A pod's workload as `namespace/workload` (its id when it has none). */
function workloadOf(pod: GenEndpoint): string {
  return `${pod.truth.namespace ?? ''}/${pod.truth.workload ?? pod.id}`;
}

/** Two workloads, one calling the other: their pods. */
interface Dependency {
  readonly clients: readonly GenEndpoint[];
  readonly servers: readonly GenEndpoint[];
}

/** A cluster of `pods` random workloads and `edges` random edges between them (the sizes tests and benchmarks ask for). */
export class RandomTopology extends BaseTopology {
  readonly edges: EdgeSpec[] = [];
  readonly cumulativeWeights: Float64Array;
  private servers: GenEndpoint[] = [];
  private readonly fqdnPool = [...FQDNS, ...Array.from({ length: 20 }, (_, i) => `svc${i}.example.com`)];
  private nextIndex = 0;
  /** Edge shape `workloads`: the pods of each workload (by namespace and workload), and the dependencies drawn so far. */
  private readonly replicas = new Map<string, GenEndpoint[]>();
  private readonly dependencies: Dependency[] = [];

  constructor(
    rng: () => number,
    pods: number,
    edges: number,
    private readonly mix: FlowMix = 'realistic',
    private readonly edgeShape: EdgeShape = 'pods',
  ) {
    super(
      rng,
      Array.from({ length: Math.max(1, Math.ceil(pods / 40)) }, (_, i) => `worker-${i + 1}`),
    );
    this.buildPods(pods);
    this.servers = this.pods.filter((p) => p.serverPort !== 53);
    if (this.servers.length < 2) this.servers = this.pods;
    for (const pod of this.servers) {
      const list = this.replicas.get(workloadOf(pod));
      if (list === undefined) this.replicas.set(workloadOf(pod), [pod]);
      else list.push(pod);
    }
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

  private addPod(
    namespace: string,
    podName: string,
    app: string,
    workload: string,
    workloadKind: string,
    identity: number,
    port: number,
  ): GenEndpoint {
    const index = this.pods.length;
    return this.podEndpoint(index, namespace, podName, [`app=${app}`], workload, workloadKind, identity, port, this.nodeAt(index));
  }

  private buildPods(count: number): void {
    const corednsCount = count >= 4 ? 2 : 1;
    const rs = this.token(HEX, 10);
    for (let i = 0; i < corednsCount; i++) {
      this.coredns.push(this.addPod('kube-system', `coredns-${rs}-${this.token(ALNUM, 5)}`, 'kube-dns', 'coredns', 'Deployment', 100, 53));
    }
    const nsCount = Math.min(50, Math.max(2, Math.ceil(count / 25)));
    const namespaces = Array.from({ length: nsCount }, (_, i) => NAMESPACES[i] ?? `team-${i}`);
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
          kind === 'Deployment'
            ? `${workload}-${hash}-${this.token(ALNUM, 5)}`
            : kind === 'StatefulSet'
              ? `${workload}-${i}`
              : `${workload}-${this.token(ALNUM, 5)}`;
        this.addPod(namespace, podName, app, workload, kind, identity, port);
      }
    }
  }

  /** A dependency for the next pod-to-pod edge: a new one (NEW_DEPENDENCY_SHARE of the time), else one drawn before. */
  private dependency(): Dependency {
    if (this.dependencies.length > 0 && this.rng() >= NEW_DEPENDENCY_SHARE) return this.pick(this.dependencies);
    const replicasOf = (pod: GenEndpoint) => this.replicas.get(workloadOf(pod)) ?? [pod];
    const dependency = { clients: replicasOf(this.pick(this.servers)), servers: replicasOf(this.pick(this.servers)) };
    this.dependencies.push(dependency);
    return dependency;
  }

  private buildEdges(count: number): void {
    const keys = new Set<string>();
    const weights = MIX_WEIGHTS[this.mix];
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
        if (this.edgeShape === 'workloads') {
          const dependency = this.dependency();
          client = this.pick(dependency.clients);
          server = this.pick(dependency.servers);
        } else server = this.pick(pods);
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
        server = this.fqdn([...names].sort()[0] ?? first);
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
    const key = callKey(client.id, server.id, port, protocol, verdict);
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
      paths: ROUTES,
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
