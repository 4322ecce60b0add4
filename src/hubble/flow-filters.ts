import net from 'node:net';
import type { FilterConfig } from '../config';
import { InputError } from '../errors';
import type { Flow } from '../flows/flow';
import type { FlowFilterJson } from './hubble-codec';

/** The whitelist and blacklist of a GetFlowsRequest. */
export interface FlowFilters {
  whitelist: FlowFilterJson[];
  blacklist: FlowFilterJson[];
}

/** `ns` -> `ns/` (every pod of the namespace); `ns/pod` stays; a bare `pod` is in `default`, as the hubble CLI reads it. */
function podSelector(pod: string): string {
  return pod.includes('/') ? pod : `default/${pod}`;
}

/**
 * The Hubble FlowFilters for the filter settings, so that Hubble drops what we do not want before it
 * crosses the wire. Within one FlowFilter all fields must match and the values of one field are
 * alternatives; a flow passes when any whitelist filter matches (or there is none) and no blacklist
 * filter does.
 *
 * - namespaces and pods: one selector list (`ns/` for a namespace, `ns/pod-prefix` for pods, a bare
 *   pod prefix meaning `default/`), in two whitelist filters: from (source_pod) or to
 *   (destination_pod) one of them. Namespaces and pods together are a union.
 * - verdicts: added to each whitelist filter (or a filter of their own).
 * - excludeNamespaces: blacklist filters on source_pod and on destination_pod.
 * - excludeReserved (`health`, `host`, `remote-node`, ... or `reserved:health`): blacklist filters on
 *   source_label and on destination_label `reserved:NAME`.
 */
export function toFlowFilters(filter: FilterConfig): FlowFilters {
  const whitelist: FlowFilterJson[] = [];
  const blacklist: FlowFilterJson[] = [];
  const selectors = [...filter.namespaces.map((ns) => `${ns.replace(/\/+$/, '')}/`), ...filter.pods.map(podSelector)];
  const verdicts = filter.verdicts.map((v) => v.toUpperCase());
  const withVerdict = (f: FlowFilterJson): FlowFilterJson => (verdicts.length > 0 ? { ...f, verdict: verdicts } : f);
  if (selectors.length > 0) {
    whitelist.push(withVerdict({ source_pod: selectors }), withVerdict({ destination_pod: selectors }));
  } else if (verdicts.length > 0) {
    whitelist.push({ verdict: verdicts });
  }
  if (filter.excludeNamespaces.length > 0) {
    const excluded = filter.excludeNamespaces.map((ns) => `${ns.replace(/\/+$/, '')}/`);
    blacklist.push({ source_pod: excluded }, { destination_pod: excluded });
  }
  if (filter.excludeReserved.length > 0) {
    const labels = filter.excludeReserved.map((r) => (r.startsWith('reserved:') ? r : `reserved:${r}`));
    blacklist.push({ source_label: labels }, { destination_label: labels });
  }
  return { whitelist, blacklist };
}

// ---- Matching (what a Hubble server does with the filters; used by the replay server) -------------

/** Where the flow and its response carry the node name. */
export interface FilterSubject {
  flow: Flow;
  nodeName?: string;
}

type Predicate = (s: FilterSubject) => boolean;

/** A predicate over flows that applies whitelist and blacklist as Hubble does; throws InputError for an invalid filter. */
export function buildFlowFilterMatcher(filters: Partial<FlowFilters>): (s: FilterSubject) => boolean {
  // A filter that cannot be read is named by its list and place: whitelist[1]: invalid source_ip filter ...
  const compile = (list: 'whitelist' | 'blacklist') => (f: FlowFilterJson, i: number) => {
    try {
      return compileFilter(f);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`${list}[${i}]: ${err.message}`);
      throw err;
    }
  };
  const white = (filters.whitelist ?? []).map(compile('whitelist'));
  const black = (filters.blacklist ?? []).map(compile('blacklist'));
  if (white.length === 0 && black.length === 0) return () => true;
  return (s) => (white.length === 0 || white.some((p) => p(s))) && !black.some((p) => p(s));
}

/** One FlowFilter: every set field must match. */
function compileFilter(f: FlowFilterJson): Predicate {
  const preds: Predicate[] = [];
  const nonEmpty = <T>(v: T[] | undefined): v is T[] => Array.isArray(v) && v.length > 0;
  const g = (s: FilterSubject) => s.flow;

  if (nonEmpty(f.uuid)) {
    const set = new Set(f.uuid);
    preds.push((s) => {
      const uuid = g(s).uuid;
      return uuid !== undefined && set.has(uuid);
    });
  }
  if (nonEmpty(f.source_ip)) preds.push(ipMatcher(f.source_ip, 'source_ip', (s) => g(s).IP?.source));
  if (nonEmpty(f.destination_ip)) preds.push(ipMatcher(f.destination_ip, 'destination_ip', (s) => g(s).IP?.destination));
  if (nonEmpty(f.source_pod)) preds.push(namespacedMatcher(f.source_pod, (s) => [g(s).source?.namespace, g(s).source?.pod_name]));
  if (nonEmpty(f.destination_pod))
    preds.push(namespacedMatcher(f.destination_pod, (s) => [g(s).destination?.namespace, g(s).destination?.pod_name]));
  if (nonEmpty(f.source_service))
    preds.push(namespacedMatcher(f.source_service, (s) => [g(s).source_service?.namespace, g(s).source_service?.name]));
  if (nonEmpty(f.destination_service))
    preds.push(namespacedMatcher(f.destination_service, (s) => [g(s).destination_service?.namespace, g(s).destination_service?.name]));
  if (nonEmpty(f.source_fqdn)) preds.push(fqdnMatcher(f.source_fqdn, (s) => g(s).source_names));
  if (nonEmpty(f.destination_fqdn)) preds.push(fqdnMatcher(f.destination_fqdn, (s) => g(s).destination_names));
  if (nonEmpty(f.source_label)) preds.push(labelMatcher(f.source_label, (s) => g(s).source?.labels));
  if (nonEmpty(f.destination_label)) preds.push(labelMatcher(f.destination_label, (s) => g(s).destination?.labels));
  if (nonEmpty(f.source_workload)) preds.push(workloadMatcher(f.source_workload, (s) => g(s).source?.workloads));
  if (nonEmpty(f.destination_workload)) preds.push(workloadMatcher(f.destination_workload, (s) => g(s).destination?.workloads));
  if (nonEmpty(f.traffic_direction)) {
    const set = new Set(f.traffic_direction);
    preds.push((s) => set.has(g(s).traffic_direction ?? 'TRAFFIC_DIRECTION_UNKNOWN'));
  }
  if (nonEmpty(f.verdict)) {
    const set = new Set(f.verdict);
    preds.push((s) => set.has(g(s).verdict ?? 'VERDICT_UNKNOWN'));
  }
  if (nonEmpty(f.event_type)) {
    const types = f.event_type;
    // As Hubble: a flow without an event type matches none; a filter's type 0 (unset) matches any type.
    preds.push((s) => {
      const et = g(s).event_type;
      if (et === undefined || et === null) return false;
      return types.some((t) => (!t.type || (et.type ?? 0) === t.type) && (!t.match_sub_type || (et.sub_type ?? 0) === (t.sub_type ?? 0)));
    });
  }
  if (nonEmpty(f.http_status_code)) {
    const codes = f.http_status_code.map((c) => {
      // As Hubble: a code from 100 to 599, or a prefix of one or two digits and + (5+, 40+).
      const m = /^(?:([1-5]\d\d)|([1-5]\d?)\+)$/.exec(c);
      if (!m)
        throw new InputError(`invalid http_status_code filter "${c}": expected a code from 100 to 599 such as 404, or a prefix such as 5+`);
      return m[1] !== undefined ? { digits: m[1], prefix: false } : { digits: m[2] ?? '', prefix: true };
    });
    preds.push((s) => {
      const code = g(s).l7?.http?.code;
      if (!code) return false;
      const text = String(code);
      return codes.some((c) => (c.prefix ? text.startsWith(c.digits) : text === c.digits));
    });
  }
  if (nonEmpty(f.protocol)) {
    const set = new Set(f.protocol.map((p) => p.toLowerCase()));
    for (const p of set)
      if (!FILTER_PROTOCOLS.has(p))
        throw new InputError(`invalid protocol filter "${p}": expected one of ${[...FILTER_PROTOCOLS].join(', ')}`);
    preds.push((s) => flowProtocols(g(s)).some((p) => set.has(p)));
  }
  if (nonEmpty(f.source_port)) preds.push(portMatcher(f.source_port, 'source_port'));
  if (nonEmpty(f.destination_port)) preds.push(portMatcher(f.destination_port, 'destination_port'));
  if (nonEmpty(f.reply)) {
    const wanted = f.reply;
    preds.push((s) => {
      // As Hubble: only is_reply counts; unknown direction matches neither true nor false.
      const r = g(s).is_reply;
      return r !== undefined && wanted.includes(r);
    });
  }
  if (nonEmpty(f.dns_query)) {
    const res = f.dns_query.map((q) => compileRegExp(q, 'dns_query'));
    preds.push((s) => {
      const q = g(s).l7?.dns?.query;
      return q !== undefined && res.some((re) => re.test(q));
    });
  }
  if (nonEmpty(f.source_identity)) {
    const set = new Set(f.source_identity);
    preds.push((s) => set.has(g(s).source?.identity ?? 0));
  }
  if (nonEmpty(f.destination_identity)) {
    const set = new Set(f.destination_identity);
    preds.push((s) => set.has(g(s).destination?.identity ?? 0));
  }
  if (nonEmpty(f.http_method)) {
    const set = new Set(f.http_method.map((m) => m.toUpperCase()));
    preds.push((s) => set.has((g(s).l7?.http?.method ?? '').toUpperCase()));
  }
  if (nonEmpty(f.http_path)) {
    const res = f.http_path.map((p) => compileRegExp(p, 'http_path'));
    preds.push((s) => {
      const url = g(s).l7?.http?.url;
      if (!url) return false;
      let p: string;
      try {
        p = new URL(url, 'http://x').pathname;
      } catch {
        p = url;
      }
      return res.some((re) => re.test(p));
    });
  }
  if (nonEmpty(f.tcp_flags)) {
    const sets = f.tcp_flags.map((fl) =>
      Object.entries(fl)
        .filter(([, v]) => v)
        .map(([k]) => k),
    );
    preds.push((s) => {
      const flags = g(s).l4?.TCP?.flags as Record<string, boolean | undefined> | undefined;
      return flags !== undefined && sets.some((need) => need.every((k) => flags[k] === true));
    });
  }
  if (nonEmpty(f.node_name)) {
    const res = f.node_name.map(nodeNamePattern);
    preds.push((s) => {
      const n = s.nodeName ?? g(s).node_name;
      return n !== undefined && res.some((re) => re.test(n));
    });
  }
  if (nonEmpty(f.ip_version)) {
    const set = new Set(f.ip_version);
    preds.push((s) => set.has(g(s).IP?.ipVersion ?? 'IP_NOT_USED'));
  }
  if (nonEmpty(f.trace_id)) {
    const set = new Set(f.trace_id);
    preds.push((s) => {
      const id = (g(s) as { trace_context?: { parent?: { trace_id?: string } } }).trace_context?.parent?.trace_id;
      return id !== undefined && set.has(id);
    });
  }
  return (s) => preds.every((p) => p(s));
}

function compileRegExp(source: string, field: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new InputError(`invalid ${field} filter "${source}": ${(err as Error).message}`);
  }
}

function ipMatcher(list: string[], field: string, get: (s: FilterSubject) => string | undefined): Predicate {
  const exact = new Set<string>();
  const block = new net.BlockList();
  let cidrs = false;
  for (const entry of list) {
    const [addr = '', bits, extra] = entry.split('/');
    const family = net.isIP(addr);
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits)))
      throw new InputError(`invalid ${field} filter "${entry}": expected an address or a CIDR such as 10.0.0.0/8 (prefix 0-${maxBits})`);
    if (bits === undefined) exact.add(addr);
    else {
      block.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
      cidrs = true;
    }
  }
  return (s) => {
    const ip = get(s);
    if (!ip) return false;
    if (exact.has(ip)) return true;
    if (!cidrs) return false;
    const family = net.isIP(ip);
    return family !== 0 && block.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** Hubble's `[namespace/][name-prefix]`: the namespace must be equal (a bare prefix means no namespace). */
function namespacedMatcher(list: string[], get: (s: FilterSubject) => [string | undefined, string | undefined]): Predicate {
  const sels = list.map((sel) => {
    const parts = sel.split('/');
    if (parts.length > 2 || sel === '' || sel === '/') throw new InputError(`invalid filter "${sel}": expected [namespace/][name-prefix]`);
    const [first = '', second] = parts;
    return second === undefined ? { ns: '', prefix: first } : { ns: first, prefix: second };
  });
  return (s) => {
    const [ns = '', name = ''] = get(s);
    if (ns === '' && name === '') return false;
    return sels.some((sel) => sel.ns === ns && name.startsWith(sel.prefix));
  };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function fqdnMatcher(list: string[], get: (s: FilterSubject) => string[] | undefined): Predicate {
  const res = list.map((p) => globToRegExp(p.replace(/\.$/, '')));
  return (s) => (get(s) ?? []).some((name) => res.some((re) => re.test(name.replace(/\.$/, ''))));
}

/** Hubble node name patterns: `node`, `k8s*`, `cluster/node`, `cluster/` (any node of the cluster). */
function nodeNamePattern(p: string): RegExp {
  if (p.endsWith('/')) return globToRegExp(`${p}*`);
  if (!p.includes('/')) return new RegExp(`^(?:[^/]*/)?${globToRegExp(p).source.slice(1)}`);
  return globToRegExp(p);
}

function portMatcher(list: string[], field: 'source_port' | 'destination_port'): Predicate {
  const ports = new Set(
    list.map((p) => {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n > 65535) throw new InputError(`invalid ${field} filter "${p}": expected a port number`);
      return n;
    }),
  );
  return (s) => {
    const l4 = s.flow.l4;
    const port = l4?.TCP?.[field] ?? l4?.UDP?.[field] ?? l4?.SCTP?.[field];
    return port !== undefined && ports.has(port);
  };
}

/** The protocols a filter may name (flowProtocols gives a flow's), as Hubble knows them. */
const FILTER_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'sctp', 'icmp', 'icmpv4', 'icmpv6', 'http', 'dns', 'kafka']);

function flowProtocols(flow: Flow): string[] {
  const out: string[] = [];
  const l4 = flow.l4;
  if (l4?.TCP) out.push('tcp');
  if (l4?.UDP) out.push('udp');
  if (l4?.SCTP) out.push('sctp');
  if (l4?.ICMPv4) out.push('icmp', 'icmpv4');
  if (l4?.ICMPv6) out.push('icmp', 'icmpv6');
  if (flow.l7?.http) out.push('http');
  if (flow.l7?.dns) out.push('dns');
  if (flow.l7?.kafka) out.push('kafka');
  return out;
}

function workloadMatcher(
  list: Array<{ name?: string; kind?: string }>,
  get: (s: FilterSubject) => Array<{ name?: string; kind?: string }> | undefined,
): Predicate {
  return (s) => (get(s) ?? []).some((w) => list.some((f) => (!f.name || f.name === w.name) && (!f.kind || f.kind === w.kind)));
}

// ---- Label selectors -----------------------------------------------------------------------------

interface ParsedLabel {
  source: string;
  key: string;
  value: string;
}

/** Cilium labels: `source:key=value` or `source:key` (e.g. `reserved:world`). */
function parseLabel(label: string): ParsedLabel {
  let source = 'any';
  let rest = label;
  const colon = label.indexOf(':');
  const eq = label.indexOf('=');
  if (colon > 0 && (eq < 0 || colon < eq)) {
    source = label.slice(0, colon);
    rest = label.slice(colon + 1);
  }
  const e = rest.indexOf('=');
  return e < 0 ? { source, key: rest, value: '' } : { source, key: rest.slice(0, e), value: rest.slice(e + 1) };
}

type Requirement = (labels: ParsedLabel[]) => boolean;

/** Splits a selector at commas outside parentheses. */
function splitSelector(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * Kubernetes label selector syntax over Cilium labels (`key`, `!key`, `key=v`, `key==v`,
 * `key!=v`, `key in (a,b)`, `key notin (a,b)`, comma = and). A key with a source (`k8s:app`,
 * `reserved:host`) matches labels of that source only; a key without one matches any source.
 */
function compileSelector(selector: string): Requirement {
  const reqs: Requirement[] = splitSelector(selector).map((part) => {
    let m: RegExpExecArray | null;
    const keyMatch = (sel: string) => {
      const p = parseLabel(sel);
      const anySource = !sel.includes(':');
      return (l: ParsedLabel) => l.key === p.key && (anySource || l.source === p.source);
    };
    if ((m = /^!\s*(\S+)$/.exec(part))) {
      const [, key = ''] = m;
      const k = keyMatch(key);
      return (ls) => !ls.some(k);
    }
    if ((m = /^(\S+?)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      const [, key = '', op, list = ''] = m;
      const k = keyMatch(key);
      const values = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in' ? (ls) => ls.some((l) => k(l) && values.has(l.value)) : (ls) => !ls.some((l) => k(l) && values.has(l.value));
    }
    if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      const [, key = '', op, value = ''] = m;
      const k = keyMatch(key);
      return op === '!=' ? (ls) => !ls.some((l) => k(l) && l.value === value) : (ls) => ls.some((l) => k(l) && l.value === value);
    }
    if (/^[^\s!=(),]+$/.test(part)) {
      const k = keyMatch(part);
      return (ls) => ls.some(k);
    }
    throw new InputError(`invalid label selector "${selector}" (at "${part}")`);
  });
  return (labels) => reqs.every((r) => r(labels));
}

function labelMatcher(selectors: string[], get: (s: FilterSubject) => string[] | undefined): Predicate {
  const compiled = selectors.map(compileSelector);
  return (s) => {
    const labels = (get(s) ?? []).map(parseLabel);
    return compiled.some((c) => c(labels));
  };
}
