import type { EdgeDecision, PolicyCheckResult } from './build-policy-check';
import { workloadKeyOf } from './observed-traffic';

/** Denied traffic between two workloads (or other endpoints) on one port and protocol. */
export interface ImpactGroup {
  /** `namespace/workload` for pods, else the endpoint id (`reserved:world`, `fqdn:api.example.com`). */
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: string;
  /** `denied` when any edge of the group is denied outright, else `partial`. */
  readonly verdict: 'denied' | 'partial';
  /** Pod-level edges in the group. */
  readonly edges: number;
  readonly flows: number;
  readonly connections: number;
  readonly requests: number;
  /** What a person counts as calls: requests when L7 was seen, else connections, else flows. */
  readonly calls: number;
  readonly callUnit: 'requests' | 'connections' | 'flows';
  readonly lastSeenMs: number;
  /** HTTP requests and DNS names refused, for `partial` (`GET /admin/*`, `dns evil.example.com`). */
  readonly refused: readonly string[];
  /** The side decisions' reasons, distinct. */
  readonly reasons: readonly string[];
}

export interface ImpactSummary {
  readonly checked: number;
  readonly allowed: number;
  readonly denied: number;
  readonly partial: number;
  readonly skipped: number;
  /** Most calls first, then by name. */
  readonly groups: readonly ImpactGroup[];
  /** One sentence per group: `applying this would have dropped 1,240 requests from shop/checkout to payments/ledger:8443/TCP (last seen ...)`. */
  readonly lines: readonly string[];
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function callsOf(flows: number, connections: number, requests: number): { calls: number; callUnit: ImpactGroup['callUnit'] } {
  if (requests > 0) return { calls: requests, callUnit: 'requests' };
  if (connections > 0) return { calls: connections, callUnit: 'connections' };
  return { calls: flows, callUnit: 'flows' };
}

interface MutableGroup {
  from: string;
  to: string;
  port: number;
  protocol: string;
  denied: boolean;
  edges: number;
  flows: number;
  connections: number;
  requests: number;
  lastSeenMs: number;
  refused: Set<string>;
  reasons: Set<string>;
}

function addDecision(g: MutableGroup, d: EdgeDecision): void {
  g.edges += 1;
  g.denied ||= d.verdict === 'denied';
  g.flows += d.denied.flows;
  g.connections += d.denied.connections;
  g.requests += d.denied.requests;
  g.lastSeenMs = Math.max(g.lastSeenMs, d.edge.lastSeenMs);
  for (const p of d.deniedHttp) g.refused.add(`${p.method} ${p.pattern}`);
  for (const n of d.deniedDnsNames) g.refused.add(`dns ${n}`);
  for (const side of [d.egress, d.ingress]) if (side.outcome === 'denied') g.reasons.add(side.reason);
}

/** The time range of flow time a check covered (epoch ms, `untilMs` exclusive). */
export interface CheckedRange {
  readonly sinceMs: number;
  readonly untilMs: number;
}

function toLine(g: ImpactGroup, range: CheckedRange | undefined): string {
  const during =
    range === undefined ? '' : ` between ${new Date(range.sinceMs).toISOString()} and ${new Date(range.untilMs).toISOString()}`;
  const where = `from ${g.from} to ${g.to}:${g.port}/${g.protocol}${during}`;
  const seen = `last seen ${new Date(g.lastSeenMs).toISOString()}`;
  if (g.verdict === 'denied') return `applying this would have dropped ${formatCount(g.calls)} ${g.callUnit} ${where} (${seen})`;
  const what = g.requests > 0 ? `${formatCount(g.requests)} requests` : 'lookups';
  return `applying this would have refused ${what} ${where}: ${g.refused.join(', ')} (${seen})`;
}

/**
 * Groups the denied and partly denied edges of a check by workload pair, port and protocol, most
 * calls first, with one sentence each (naming the range when the check covered one).
 */
export function toImpactSummary(result: PolicyCheckResult, range?: CheckedRange): ImpactSummary {
  const groups = new Map<string, MutableGroup>();
  let allowed = 0;
  let denied = 0;
  let partial = 0;
  for (const d of result.decisions) {
    if (d.verdict === 'allowed') {
      allowed += 1;
      continue;
    }
    if (d.verdict === 'denied') denied += 1;
    else partial += 1;
    const from = workloadKeyOf(d.edge.source);
    const to = workloadKeyOf(d.edge.destination);
    const key = `${from}|${to}|${d.edge.port}|${d.edge.protocol}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        from,
        to,
        port: d.edge.port,
        protocol: d.edge.protocol,
        denied: false,
        edges: 0,
        flows: 0,
        connections: 0,
        requests: 0,
        lastSeenMs: 0,
        refused: new Set(),
        reasons: new Set(),
      };
      groups.set(key, g);
    }
    addDecision(g, d);
  }
  const out: ImpactGroup[] = [...groups.values()].map((g) => ({
    from: g.from,
    to: g.to,
    port: g.port,
    protocol: g.protocol,
    verdict: g.denied ? 'denied' : 'partial',
    edges: g.edges,
    flows: g.flows,
    connections: g.connections,
    requests: g.requests,
    ...callsOf(g.flows, g.connections, g.requests),
    lastSeenMs: g.lastSeenMs,
    refused: [...g.refused].sort(),
    reasons: [...g.reasons].sort(),
  }));
  out.sort((a, b) => b.calls - a.calls || (a.from + a.to < b.from + b.to ? -1 : a.from + a.to > b.from + b.to ? 1 : a.port - b.port));
  return {
    checked: result.decisions.length,
    allowed,
    denied,
    partial,
    skipped: result.skipped,
    groups: out,
    lines: out.map((g) => toLine(g, range)),
  };
}
