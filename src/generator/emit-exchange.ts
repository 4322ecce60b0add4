import type { FlowLayer7, TcpFlags } from '../flows/flow';
import type { FlowEmitter } from './flow-emitter';
import type { EdgeSpec } from './topology';
import { type Effects, NO_EFFECTS } from './truth';
import { pickUniform } from './seeded-random';

const F_SYN: TcpFlags = { SYN: true };
const F_SYNACK: TcpFlags = { SYN: true, ACK: true };
const F_PSHACK: TcpFlags = { PSH: true, ACK: true };
const F_ACK: TcpFlags = { ACK: true };
const F_FINACK: TcpFlags = { FIN: true, ACK: true };

/** Observation order of one packet: at the sender's side first, then at the receiver's. */
function sidesOf(spec: EdgeSpec, fromServer: boolean): Array<'EGRESS' | 'INGRESS'> {
  if (spec.sides === 'client') return ['EGRESS'];
  if (spec.sides === 'server') return ['INGRESS'];
  return fromServer ? ['INGRESS', 'EGRESS'] : ['EGRESS', 'INGRESS'];
}

/** One packet, observed at the spec's sides; `first` effects go with the first observation only. */
function packet(
  em: FlowEmitter,
  spec: EdgeSpec,
  fromServer: boolean,
  clientPort: number,
  flags: TcpFlags | undefined,
  first: Effects,
  l7?: FlowLayer7,
): void {
  let effects = first;
  for (const side of sidesOf(spec, fromServer)) {
    em.emit(spec, fromServer, side, clientPort, { flags }, l7, effects);
    effects = NO_EFFECTS;
  }
}

function tcpOpen(em: FlowEmitter, spec: EdgeSpec, clientPort: number): void {
  packet(em, spec, false, clientPort, F_SYN, { open: true });
  packet(em, spec, true, clientPort, F_SYNACK, NO_EFFECTS);
}

function tcpClose(em: FlowEmitter, spec: EdgeSpec, clientPort: number): void {
  packet(em, spec, false, clientPort, F_FINACK, NO_EFFECTS);
  packet(em, spec, true, clientPort, F_ACK, NO_EFFECTS);
}

function latencyNs(rng: () => number, baseMs: number): string {
  // A long-tailed latency: base * (0.5 .. ~20), in whole microseconds.
  const factor = 0.5 + rng() * rng() * rng() * 20;
  return String(Math.round(baseMs * factor * 1000) * 1000);
}

/** One unit of traffic on an edge (a connection, a DNS lookup, a drop, a ping). */
export function emitExchange(em: FlowEmitter, rng: () => number, spec: EdgeSpec): void {
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
      const query = pickUniform(rng, spec.queries);
      const nx = spec.nxQueries ? spec.nxQueries.has(query) : query.startsWith('missing-');
      for (const qtype of ['A', 'AAAA']) {
        packet(em, spec, false, clientPort, undefined, NO_EFFECTS);
        // Cilium's DNS proxy sees lookups at the client's egress only.
        em.emit(
          spec,
          false,
          'EGRESS',
          clientPort,
          {},
          { type: 'REQUEST', dns: { query, observation_source: 'proxy', qtypes: [qtype] } },
          { request: '', dnsQuery: query, l7Protocol: 'DNS' },
        );
        const rcode = nx ? 3 : 0;
        const lat = latencyNs(rng, 0.3);
        const dns = nx
          ? { query, rcode, observation_source: 'proxy', qtypes: [qtype] }
          : { query, ips: ['10.96.0.10'], ttl: 30, observation_source: 'proxy', qtypes: [qtype], rrtypes: [qtype] };
        em.emit(
          spec,
          true,
          'EGRESS',
          clientPort,
          {},
          { type: 'RESPONSE', latency_ns: lat, dns },
          {
            response: { rcode, error: nx, latencyNs: lat },
            dnsQuery: query,
            l7Protocol: 'DNS',
          },
        );
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

/** A request through the proxies (client egress, server ingress), its response, maybe a retry. */
function httpRequest(em: FlowEmitter, rng: () => number, spec: EdgeSpec, clientPort: number): void {
  const id = em.nextRequestId();
  // Drawn in this order (method, then path) so that paths without methods of their own generate what they always did.
  const methodDraw = rng();
  const route = pickUniform(rng, spec.paths);
  const method = pickUniform(() => methodDraw, route.methods);
  const url = `http://${spec.server.truth.workload ?? 'svc'}.${spec.server.truth.namespace ?? 'default'}.svc.cluster.local${route.path}`;
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
    const response = (lat: string): FlowLayer7 => ({
      type: 'RESPONSE',
      latency_ns: lat,
      http: { code: status, method, url, protocol: spec.httpProtocol, headers },
    });
    // The first end to see the response is the one that counts (and whose latency is kept).
    const counted = {
      response: { status, error: status >= 500, latencyNs: both ? serverLatency : clientLatency },
      l7Protocol: spec.httpProtocol,
    };
    if (both) em.emit(spec, true, 'INGRESS', clientPort, {}, response(serverLatency), counted);
    em.emit(spec, true, 'EGRESS', clientPort, {}, response(clientLatency), both ? NO_EFFECTS : counted);
    if (!error || rng() >= spec.retryRate) return;
  }
}
