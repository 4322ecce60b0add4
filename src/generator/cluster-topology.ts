import {
  CLUSTER_DEPENDENCIES,
  CLUSTER_WORKLOADS,
  type ClusterDependency,
  type ClusterWorkload,
  INCIDENT_SERVICE,
  clusterStoryAt,
  generationAt,
} from './cluster-story';
import { pickWeighted } from './seeded-random';
import { BaseTopology, type EdgeKind, type EdgeSpec, type GenEndpoint } from './topology';
import { ROUTES, fnv1a, safeName, toRoutes } from './words';
import { callKey } from '../model/endpoint-ids';

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
export class ClusterTopology extends BaseTopology {
  private readonly specs = new Map<string, EdgeSpec>();
  private readonly podsByKey = new Map<string, GenEndpoint>();
  private readonly byId = new Map<string, ClusterWorkload>();
  private readonly identities = new Map<ClusterWorkload, number>();
  private readonly deps: Record<1 | 2, { items: ResolvedDependency[]; cumulative: Float64Array }>;
  private readonly callersOfIncident: Set<string>;
  private readonly worldClient: GenEndpoint;
  /** Pods made so far (their index gives each its own address, also once earlier ones are forgotten). */
  private podsMade = 0;
  /** Per Deployment or DaemonSet: its newest generation, and the keys of its pods of each generation. */
  private readonly generations = new Map<string, { newest: number; pods: Map<number, string[]> }>();

  /**
   * `forgetRetired`: once a rollout's generation is two behind, its pods and their edges are
   * dropped (a stream without end, the demo's, would otherwise keep every pod a rollout ever made:
   * about 9 MB an hour); `allEdges` then lacks their truth, so only for streams without a truth.
   */
  constructor(
    rng: () => number,
    private readonly periodMs: number,
    private readonly forgetRetired = false,
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
      if (w !== dns)
        resolved.push({
          dep: { from: `${w.namespace}/${w.name}`, to: 'kube-system/coredns', weight: 0.3 },
          client: w,
          server: dns,
          kind: 'dns',
        });
      resolved.push({ dep: { from: 'host', to: `${w.namespace}/${w.name}`, weight: 0.05 }, client: 'host', server: w, kind: 'health' });
    }
    resolved.push({
      dep: { from: 'remote-node', to: 'reserved:health', weight: 0.05 },
      client: 'remote-node',
      server: 'reserved:health',
      kind: 'icmp',
    });
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
      if (this.forgetRetired && w.kind !== 'StatefulSet') this.noteGeneration(id, generation, key);
      const podName =
        w.kind === 'StatefulSet'
          ? `${w.name}-${replica}`
          : daemon
            ? `${w.name}-${safeName(key, 5)}`
            : // Deployment -> ReplicaSet `name-<pod-template-hash>` -> pod `name-<hash>-<5 characters>`.
              `${w.name}-${safeName(`${id}#${generation}`, 10)}-${safeName(key, 5)}`;
      const node = this.nodeAt(daemon ? replica : fnv1a(key));
      pod = this.podEndpoint(this.podsMade++, w.namespace, podName, w.labels, w.name, w.kind, this.identities.get(w) ?? 0, w.port, node);
      if (id === 'kube-system/coredns') this.coredns.push(pod);
      this.podsByKey.set(key, pod);
    }
    return pod;
  }

  private edge(r: ResolvedDependency, client: GenEndpoint, server: GenEndpoint, port: number): EdgeSpec {
    const verdict = r.kind === 'drop' ? 'DROPPED' : 'FORWARDED';
    const protocol = r.kind === 'dns' ? 'UDP' : r.kind === 'icmp' ? 'ICMPv4' : 'TCP';
    const key = callKey(client.id, server.id, port, protocol, verdict);
    let spec = this.specs.get(key);
    if (spec === undefined) {
      const w = typeof r.server === 'string' ? undefined : r.server;
      const fields: Partial<EdgeSpec> = {
        protocol,
        verdict,
        httpProtocol: w?.httpProtocol ?? 'HTTP/1.1',
        baseLatencyMs: w?.latencyMs ?? 80,
        paths: w?.paths ? toRoutes(w.paths) : ROUTES,
        errorRate: r.kind === 'http' ? 0.002 : 0,
      };
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

  /**
   * Notes the pod `key` of generation `generation` of the workload `id`; a generation newer than
   * any before retires the pods of the generations two or more behind it, with their edges.
   */
  private noteGeneration(id: string, generation: number, key: string): void {
    let g = this.generations.get(id);
    if (g === undefined) this.generations.set(id, (g = { newest: generation, pods: new Map() }));
    const keys = g.pods.get(generation);
    if (keys === undefined) g.pods.set(generation, [key]);
    else keys.push(key);
    if (generation <= g.newest) return;
    g.newest = generation;
    const retired = new Set<GenEndpoint>();
    for (const [old, keys] of g.pods) {
      if (old > generation - 2) continue;
      g.pods.delete(old);
      for (const k of keys) {
        const pod = this.podsByKey.get(k);
        if (pod === undefined) continue;
        this.podsByKey.delete(k);
        retired.add(pod);
      }
    }
    if (retired.size === 0) return;
    // Their edges, at either end (once a rollout per workload: the specs left are bounded).
    for (const [specKey, spec] of this.specs) if (retired.has(spec.client) || retired.has(spec.server)) this.specs.delete(specKey);
    for (const list of [this.pods, this.endpoints, this.coredns]) {
      const kept = list.filter((e) => !retired.has(e));
      list.length = 0;
      list.push(...kept);
    }
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
      client =
        r.client === 'world'
          ? this.worldClient
          : r.client === 'host'
            ? this.hostOf(server.node ?? '')
            : this.podOf(r.client as ClusterWorkload, timeMs);
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
