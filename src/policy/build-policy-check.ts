import { toHttpPathRegex, toPathSamples } from './http-path-pattern';
import { type EndpointView, matchesDnsName, matchesPeer, matchesSelector, toEndpointView } from './match-peer';
import type { HttpPathCount } from '../model/http-path-counts';
import { type ObservedEdge, isDnsEdge, toEdgeKey } from './observed-traffic';
import {
  type Direction,
  type DnsRuleMatch,
  type HttpRuleMatch,
  type IcmpMatch,
  type NormalizedRule,
  type ParsedPolicy,
  type ParsedPolicySet,
  type PolicyRef,
  type PolicyWarning,
  type PortMatch,
  type PortRule,
  type RuleRef,
  toPolicyName,
  toRuleName,
} from './policy-model';

export interface PolicyCheckOptions {
  /** Verdicts of the edges to check; other edges are counted in `skipped`. Default `['FORWARDED']`. */
  verdicts?: readonly string[];
  /**
   * Cilium's `allow-localhost` (in Kubernetes it defaults to `always`): the local host reaches the
   * pods of its node whatever their ingress policies, so kubelet probes keep working. Default true.
   */
  allowLocalHost?: boolean;
}

/** `denied`: no packet would pass; `partial`: the connection passes but some HTTP requests or DNS lookups would be refused. */
export type EdgeVerdict = 'allowed' | 'denied' | 'partial';

/** How one side's policies treat an edge: the client's egress or the server's ingress. */
export interface SideDecision {
  /** Id of the endpoint whose policies decide. */
  readonly endpoint: string;
  /**
   * `allowed`/`denied` by its policies; `not-enforced`: no policy puts it in default deny in this
   * direction (and no deny rule matched); `not-a-pod`: only pods have policies here;
   * `allow-localhost`: ingress from the local host, always allowed (see PolicyCheckOptions).
   */
  readonly outcome: 'allowed' | 'denied' | 'not-enforced' | 'not-a-pod' | 'allow-localhost';
  /** Allow rules that match the edge (all of them: the allow rules form a union). */
  readonly allowedBy: readonly RuleRef[];
  /** Deny rules that match the edge; any of them denies it whatever the allow rules say. */
  readonly deniedBy: readonly RuleRef[];
  /** Policies that select the endpoint and so put it in default deny in this direction. */
  readonly defaultDenyBy: readonly PolicyRef[];
  /** DNS rules that let a `toFQDNs` rule in `allowedBy` learn the addresses of the name. */
  readonly requires: readonly RuleRef[];
  /** Why, in words. */
  readonly reason: string;
}

export interface DeniedCounts {
  readonly flows: number;
  readonly connections: number;
  readonly requests: number;
}

export interface EdgeDecision {
  readonly key: string;
  readonly edge: ObservedEdge;
  readonly verdict: EdgeVerdict;
  readonly egress: SideDecision;
  readonly ingress: SideDecision;
  /** HTTP method+pattern pairs the L7 rules would refuse (on either side). */
  readonly deniedHttp: readonly HttpPathCount[];
  /** DNS names whose lookups the DNS rules would refuse. */
  readonly deniedDnsNames: readonly string[];
  /** What would have been dropped: everything for `denied`; the refused requests for `partial`. */
  readonly denied: DeniedCounts;
  /** Conditions the graph cannot observe, assumed to hold (a header rule, a CIDR exception, ...). */
  readonly assumptions: readonly string[];
}

export interface PolicyCheckResult {
  /** One per checked edge, sorted by edge key. */
  readonly decisions: readonly EdgeDecision[];
  /** Edges not checked because of their verdict. */
  readonly skipped: number;
  /** The parser's warnings about constructs that are not modelled. */
  readonly warnings: readonly PolicyWarning[];
}

/** ICMP types of an echo request: the graph keeps no ICMP type, and a client->server ICMP edge is almost always ping. */
const ECHO_REQUEST: Readonly<Record<'IPv4' | 'IPv6', { type: number; names: readonly string[] }>> = {
  IPv4: { type: 8, names: ['Echo', 'EchoRequest'] },
  IPv6: { type: 128, names: ['EchoRequest'] },
};

function matchesIcmp(icmps: readonly IcmpMatch[], protocol: string): boolean {
  const family = protocol === 'ICMPv6' ? 'IPv6' : 'IPv4';
  const echo = ECHO_REQUEST[family];
  return icmps.some((m) => m.family === family && (String(m.type) === String(echo.type) || echo.names.includes(String(m.type))));
}

function matchesPort(p: PortMatch, edge: ObservedEdge): boolean {
  if (p.protocol !== 'ANY' && p.protocol !== edge.protocol) return false;
  if (p.namedPort !== null) return false;
  if (p.port === null) return true;
  return p.endPort === null ? edge.port === p.port : edge.port >= p.port && edge.port <= p.endPort;
}

/** The part of a rule that matched an edge. */
interface RuleMatch {
  readonly rule: NormalizedRule;
  /** The port rules that matched; empty when the rule allows every port (no L7 then). */
  readonly portRules: readonly PortRule[];
  /** The FQDN name when only `toFQDNs` selected the peer (Cilium then needs a DNS rule to see the lookup). */
  readonly viaFqdn: string | null;
  readonly assumptions: readonly string[];
}

function matchRule(rule: NormalizedRule, peer: EndpointView, edge: ObservedEdge): RuleMatch | null {
  const assumptions: string[] = [];
  let viaFqdn: string | null = null;
  if (rule.peers !== 'any') {
    let byOther = false;
    let byFqdn = false;
    for (const p of rule.peers) {
      const m = matchesPeer(p, peer);
      if (m === 'no') continue;
      if (m === 'assumed')
        assumptions.push(
          `${toRuleName(rule.ref)}: CIDR exceptions cannot be checked for ${peer.endpoint.id} (no address kept); assumed outside them`,
        );
      if (p.type === 'fqdn') byFqdn = true;
      else byOther = true;
    }
    if (!byOther && !byFqdn) return null;
    if (!byOther) viaFqdn = peer.fqdn;
  }
  const icmp = edge.protocol === 'ICMPv4' || edge.protocol === 'ICMPv6';
  if (rule.l4 === 'any') return { rule, portRules: [], viaFqdn, assumptions };
  if (icmp) return matchesIcmp(rule.l4.icmps, edge.protocol) ? { rule, portRules: [], viaFqdn, assumptions } : null;
  const portRules = rule.l4.portRules.filter((pr) => pr.ports.length === 0 || pr.ports.some((p) => matchesPort(p, edge)));
  return portRules.length === 0 ? null : { rule, portRules, viaFqdn, assumptions };
}

function pathAllowed(rule: HttpRuleMatch, pattern: string): boolean {
  if (rule.path === null) return true;
  // Our own drafts write exactly this regex; anything else is tried on sample identifiers.
  if (rule.pathSource === toHttpPathRegex(pattern)) return true;
  return toPathSamples(pattern).every((p) => (rule.path as RegExp).test(p));
}

/** A port rule without L7 restrictions (no rules, or empty lists) allows every request. */
function isL7Unrestricted(l7: PortRule['l7']): boolean {
  return l7 === null || ((l7.http ?? []).length === 0 && (l7.dns ?? []).length === 0 && l7.unmodelled === null);
}

interface L7Outcome {
  deniedHttp: HttpPathCount[];
  deniedDnsNames: string[];
  assumptions: string[];
}

/** L7 over the allow rules that matched: a union; a match without L7 rules allows every request. */
function evaluateL7(matches: readonly RuleMatch[], edge: ObservedEdge): L7Outcome {
  const out: L7Outcome = { deniedHttp: [], deniedDnsNames: [], assumptions: [] };
  const http: HttpRuleMatch[] = [];
  const dns: DnsRuleMatch[] = [];
  for (const m of matches) {
    if (m.portRules.length === 0) return out;
    for (const pr of m.portRules) {
      const l7 = pr.l7;
      if (l7 === null || isL7Unrestricted(l7)) return out;
      if (l7.unmodelled !== null) {
        out.assumptions.push(`${toRuleName(m.rule.ref)}: ${l7.unmodelled} rules not evaluated, assumed to allow`);
        return out;
      }
      http.push(...(l7.http ?? []));
      dns.push(...(l7.dns ?? []));
    }
  }
  if (isDnsEdge(edge) && dns.length > 0) {
    out.deniedDnsNames = edge.dnsQueries.filter((name) => !dns.some((d) => matchesDnsName(name, d.matchName, d.matchPattern)));
    if (edge.dnsQueriesTruncated)
      out.assumptions.push(`${edge.dnsQueries.length} DNS names recorded on the edge, more were not kept: those were not checked`);
    return out;
  }
  if (http.length === 0) {
    out.assumptions.push('only DNS rules on this port: the traffic is not DNS, assumed to pass');
    return out;
  }
  if (edge.http === null) {
    out.assumptions.push('no HTTP request details observed on the edge: HTTP rules assumed to allow it');
    return out;
  }
  const unobserved = new Set(http.flatMap((r) => r.unobserved));
  if (unobserved.size > 0) out.assumptions.push(`HTTP ${[...unobserved].sort().join(', ')} not observed: assumed to match`);
  for (const p of edge.http.paths) {
    const allowed = http.some((r) => {
      if (r.method !== null && p.method !== 'UNKNOWN' && !r.method.test(p.method)) return false;
      return pathAllowed(r, p.pattern);
    });
    if (!allowed) out.deniedHttp.push(p);
    else if (p.method === 'UNKNOWN' && http.every((r) => r.method !== null))
      out.assumptions.push(`requests without a method on ${p.pattern}: assumed to match the method rules`);
  }
  if (edge.http.overflowRequests > 0 && !http.some((r) => r.method === null && r.path === null)) {
    out.assumptions.push(`${edge.http.overflowRequests} requests of paths past the recorded bound: assumed allowed`);
  }
  return out;
}

interface SideResult {
  decision: SideDecision;
  l7: L7Outcome;
}

function policySelects(policy: ParsedPolicy, view: EndpointView): boolean {
  return policy.subject !== null && matchesSelector(view.labels, policy.subject);
}

/** DNS rules in the client's egress that see lookups of `name` (toFQDNs learns addresses only from those). */
function dnsRulesFor(name: string, selecting: readonly ParsedPolicy[]): RuleRef[] {
  const refs: RuleRef[] = [];
  for (const p of selecting) {
    for (const r of p.rules) {
      if (r.ref.direction !== 'egress' || r.ref.action !== 'allow' || r.l4 === 'any') continue;
      const sees = r.l4.portRules.some((pr) => pr.l7?.dns?.some((d) => matchesDnsName(name, d.matchName, d.matchPattern)) ?? false);
      if (sees) refs.push(r.ref);
    }
  }
  return refs;
}

const NO_L7: L7Outcome = { deniedHttp: [], deniedDnsNames: [], assumptions: [] };

function evaluateSide(
  direction: Direction,
  subject: EndpointView,
  peer: EndpointView,
  edge: ObservedEdge,
  policies: readonly ParsedPolicy[],
  allowLocalHost: boolean,
): SideResult {
  const base = { endpoint: subject.endpoint.id, allowedBy: [], deniedBy: [], defaultDenyBy: [], requires: [] };
  const who = `${direction} of ${subject.endpoint.id}`;
  if (subject.endpoint.kind !== 'pod')
    return { decision: { ...base, outcome: 'not-a-pod', reason: `${who}: not a pod, no policy applies` }, l7: NO_L7 };
  if (direction === 'ingress' && allowLocalHost && peer.reserved === 'host') {
    return {
      decision: { ...base, outcome: 'allow-localhost', reason: `${who}: the local host always reaches its pods (Cilium allow-localhost)` },
      l7: NO_L7,
    };
  }
  const selecting = policies.filter((p) => policySelects(p, subject));
  const defaultDenyBy = selecting.filter((p) => p.defaultDeny[direction]).map((p) => p.ref);
  const allows: RuleMatch[] = [];
  const denies: RuleMatch[] = [];
  const assumptions: string[] = [];
  const notes: string[] = [];
  const requires: RuleRef[] = [];
  for (const p of selecting) {
    for (const r of p.rules) {
      if (r.ref.direction !== direction) continue;
      const m = matchRule(r, peer, edge);
      if (m === null) continue;
      if (r.ref.action === 'deny') {
        denies.push(m);
        assumptions.push(...m.assumptions);
        continue;
      }
      if (m.viaFqdn !== null) {
        const dnsRules = dnsRulesFor(m.viaFqdn, selecting);
        if (dnsRules.length === 0) {
          notes.push(
            `${toRuleName(r.ref)} names ${m.viaFqdn} in toFQDNs, but no DNS rule of this endpoint sees its lookup, so Cilium never learns its addresses`,
          );
          continue;
        }
        requires.push(...dnsRules.filter((d) => !requires.includes(d)));
      }
      allows.push(m);
    }
  }
  const allowedBy = allows.map((m) => m.rule.ref);
  const deniedBy = denies.map((m) => m.rule.ref);
  const tail = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  if (denies.length > 0) {
    return {
      decision: {
        ...base,
        allowedBy,
        deniedBy,
        defaultDenyBy,
        requires,
        outcome: 'denied',
        reason: `${who}: denied by ${deniedBy.map(toRuleName).join(', ')}`,
      },
      l7: { ...NO_L7, assumptions },
    };
  }
  if (defaultDenyBy.length === 0) {
    return {
      decision: { ...base, defaultDenyBy, outcome: 'not-enforced', reason: `${who}: no policy puts it in default deny` },
      l7: NO_L7,
    };
  }
  if (allows.length === 0) {
    const reason = `${who}: no rule allows it; default deny from ${defaultDenyBy.map(toPolicyName).join(', ')}${tail}`;
    return { decision: { ...base, defaultDenyBy, outcome: 'denied', reason }, l7: { ...NO_L7, assumptions } };
  }
  for (const m of allows) assumptions.push(...m.assumptions);
  const l7 = evaluateL7(allows, edge);
  l7.assumptions.unshift(...assumptions);
  return {
    decision: {
      ...base,
      allowedBy,
      defaultDenyBy,
      requires,
      outcome: 'allowed',
      reason: `${who}: allowed by ${allowedBy.map(toRuleName).join(', ')}`,
    },
    l7,
  };
}

function unionHttp(a: readonly HttpPathCount[], b: readonly HttpPathCount[]): HttpPathCount[] {
  const seen = new Map<string, HttpPathCount>();
  for (const p of [...a, ...b]) seen.set(`${p.method} ${p.pattern}`, p);
  return [...seen.values()].sort((x, y) => (x.pattern === y.pattern ? (x.method < y.method ? -1 : 1) : x.pattern < y.pattern ? -1 : 1));
}

/** Decides one edge against a policy set (both the client's egress and the server's ingress must allow it). */
export function buildEdgeDecision(policies: readonly ParsedPolicy[], edge: ObservedEdge, options: PolicyCheckOptions = {}): EdgeDecision {
  const allowLocalHost = options.allowLocalHost ?? true;
  const client = toEndpointView(edge.source);
  const server = toEndpointView(edge.destination);
  const egress = evaluateSide('egress', client, server, edge, policies, allowLocalHost);
  const ingress = evaluateSide('ingress', server, client, edge, policies, allowLocalHost);
  const assumptions = [...new Set([...egress.l7.assumptions, ...ingress.l7.assumptions])];
  const base = { key: toEdgeKey(edge), edge, egress: egress.decision, ingress: ingress.decision, assumptions };
  if (egress.decision.outcome === 'denied' || ingress.decision.outcome === 'denied') {
    return {
      ...base,
      verdict: 'denied',
      deniedHttp: [],
      deniedDnsNames: [],
      denied: { flows: edge.flows, connections: edge.connections, requests: edge.requests },
    };
  }
  const deniedHttp = unionHttp(egress.l7.deniedHttp, ingress.l7.deniedHttp);
  const deniedDnsNames = [...new Set([...egress.l7.deniedDnsNames, ...ingress.l7.deniedDnsNames])].sort();
  const requests = deniedHttp.reduce((n, p) => n + p.count, 0);
  const partial = deniedHttp.length > 0 || deniedDnsNames.length > 0;
  return { ...base, verdict: partial ? 'partial' : 'allowed', deniedHttp, deniedDnsNames, denied: { flows: 0, connections: 0, requests } };
}

/**
 * The impact check: for every observed edge of the chosen verdicts, whether the policies would
 * allow it, deny it, or refuse part of its HTTP requests or DNS lookups, with the rules responsible.
 * Semantics (Cilium's, for Cilium and Kubernetes policies alike) and what is not modelled:
 * docs/network-policy.md.
 */
export function buildPolicyCheck(
  set: ParsedPolicySet,
  edges: readonly ObservedEdge[],
  options: PolicyCheckOptions = {},
): PolicyCheckResult {
  const verdicts = options.verdicts ?? ['FORWARDED'];
  const decisions: EdgeDecision[] = [];
  let skipped = 0;
  for (const edge of edges) {
    if (!verdicts.includes(edge.verdict)) {
      skipped += 1;
      continue;
    }
    decisions.push(buildEdgeDecision(set.policies, edge, options));
  }
  decisions.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { decisions, skipped, warnings: set.warnings };
}
