import type { FlowEndpoint } from '../flows/flow';
import { type TruthCall, type TruthEndpoint, emptyCall } from './truth';
import { pickUniform } from './seeded-random';
import { type HttpRoute, ROUTES } from './words';
import { callKey } from '../model/endpoint-ids';

/** An endpoint of the generated cluster, as flows show it and as the graph must store it. */
export interface GenEndpoint {
  id: string;
  ep: FlowEndpoint;
  ip: string;
  /** Kubernetes node the pod runs on (pods), else undefined. */
  node: string | undefined;
  /** Shared by every address of one graph node (reserved:host has one per Kubernetes node). */
  truth: TruthEndpoint;
  serverPort: number;
}

/** The kinds of traffic an edge carries; each has its script in emit-exchange.ts. */
export type EdgeKind = 'http' | 'tcp' | 'dns' | 'drop' | 'world' | 'fqdn' | 'health' | 'icmp';

/** Which ends observe an edge's packets. */
export type Sides = 'both' | 'client' | 'server';

/** One CALLS edge to be: its ends, how its traffic looks, and its ground truth so far. */
export interface EdgeSpec {
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
  /** HTTP paths requested, with their methods. */
  paths: readonly HttpRoute[];
  truth: TruthCall;
  /** Distinct DNS names kept in truth (capped as the aggregator caps them: src/model/dns-name.ts). */
  dnsSet: Set<string>;
}

/** Endpoints every topology has: reserved identities, hosts, DNS names; and the edge a spec describes. */
export abstract class BaseTopology {
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

  /** The cluster node at `index`, wrapping around the list. */
  protected nodeAt(index: number): string {
    const node = this.nodes[index % this.nodes.length];
    if (node === undefined) throw new RangeError('the topology has no cluster nodes');
    return node;
  }

  protected pick<T>(items: readonly T[]): T {
    return pickUniform(this.rng, items);
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
        truth: {
          id: `fqdn:${name}`,
          kind: 'fqdn',
          name,
          namespace: null,
          labels: null,
          workload: null,
          workloadKind: null,
          identity: null,
          node: null,
          cluster: null,
          firstSeenMs: 0,
          lastSeenMs: 0,
        },
        serverPort: 443,
      };
      this.fqdns.set(name, f);
      this.endpoints.push(f);
    }
    return f;
  }

  /** A pod endpoint with the labels Cilium reports for it (its identity labels, `k8s:` prefixed). */
  protected podEndpoint(
    index: number,
    namespace: string,
    podName: string,
    labels: readonly string[],
    workload: string,
    workloadKind: string,
    identity: number,
    port: number,
    node: string,
  ): GenEndpoint {
    const pairs = [
      ...labels,
      `io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${namespace}`,
      'io.cilium.k8s.policy.cluster=default',
      `io.cilium.k8s.policy.serviceaccount=${workload}`,
      `io.kubernetes.pod.namespace=${namespace}`,
    ];
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
      truth: {
        id,
        kind: 'pod',
        name: podName,
        namespace,
        labels: [...pairs].sort(),
        workload,
        workloadKind,
        identity,
        node: null,
        cluster: 'default',
        firstSeenMs: 0,
        lastSeenMs: 0,
      },
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
    const key = callKey(client.id, server.id, port, protocol, verdict);
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
      paths: ROUTES,
      ...fields,
      truth: emptyCall(key, client.id, server.id, port, protocol, verdict),
      dnsSet: new Set(),
    };
  }
}
