import type { Flow } from './flow';

/**
 * The boundary check of every flow, whatever its source (gRPC, files, arrays in tests): what the
 * aggregator and the writer read of a flow is checked for type, length, characters and range here,
 * once, so that nothing after it has to doubt a value and no value can make Neo4j refuse a write
 * (docs/flow-to-graph-rules.md, "Checked fields").
 *
 * Two outcomes for a bad value:
 * - a field that decides which endpoints or which edge the flow belongs to (time, verdict, ports,
 *   ICMP type, addresses, namespace, pod name, identity, labels list, DNS names list) refuses the
 *   whole flow: counting it anywhere else would be wrong;
 * - a field that only adds detail (node, workload, cluster, direction, reply flags, drop reason,
 *   L7 details, single labels, single DNS names, headers) is removed and the flow is counted
 *   without it.
 * Fields hubble-graph does not read are neither checked nor stored.
 */
export interface FlowRefusal {
  /** Path of the refused field, e.g. `source.pod_name`. */
  readonly field: string;
  /** What is wrong, with a short preview of the value received. */
  readonly message: string;
}

/** Called for each value removed from a flow that is kept; `field` is a fixed path (a metric label). */
export type DroppedFieldHandler = (field: string, value: unknown) => void;

/** Limits of the checks (Kubernetes and DNS limits where they exist, generous bounds elsewhere). */
export const FLOW_LIMITS = {
  /** Kubernetes object names (DNS subdomain). */
  name: 253,
  /** A Cilium label (`k8s:key=value`: prefix, 253 + 63 key, 63 value). */
  label: 1024,
  /** Labels on one endpoint. */
  labels: 512,
  /** A DNS name with its trailing dot. */
  dnsName: 254,
  /** DNS names on one side of a flow. */
  dnsNames: 64,
  /** An IPv6 address with a zone. */
  ip: 64,
  /** A flow uuid or an X-Request-Id value. */
  id: 128,
  /** An RFC 3339 time. */
  time: 40,
  /** An HTTP URL (`l7.http.url`); longer ones are not paths a policy rule would name. */
  url: 2048,
} as const;

type Obj = Record<string, unknown>;

const VERDICT = /^[A-Z][A-Z0-9_]{0,31}$/;
const DROP_REASON = /^[A-Z0-9_]{1,64}$/;
const IP_ADDRESS = /^[0-9A-Za-z:.%_-]+$/;
/** An HTTP method is an RFC 9110 token. */
const HTTP_METHOD = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;
const HTTP_PROTOCOL = /^HTTP\/[0-9](\.[0-9])?$/;
const WORD = /^[A-Za-z0-9_]{1,64}$/;
const DIRECTIONS = new Set(['INGRESS', 'EGRESS', 'TRAFFIC_DIRECTION_UNKNOWN']);
const L7_TYPES = new Set(['REQUEST', 'RESPONSE', 'SAMPLE', 'UNKNOWN_L7_TYPE']);
const PORT_MAX = 65535;
const UINT32_MAX = 4294967295;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

// eslint-disable-next-line no-control-regex -- finding control characters is this pattern's job
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True when `s` holds a C0 control character, DEL, or a lone surrogate half (not storable as UTF-8). */
export function hasBadChar(s: string): boolean {
  // Both in native code: a JavaScript loop over the characters cost more than the regex.
  return CONTROL.test(s) || !(s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** A non-empty string of at most `max` characters without control characters. */
function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !hasBadChar(v);
}

/** A short preview of a received value for messages and logs. */
export function preview(v: unknown): string {
  let text: string;
  if (typeof v === 'string') text = JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
  else {
    try {
      text = JSON.stringify(v) ?? String(v);
    } catch {
      text = String(v);
    }
    if (text.length > 60) text = `${text.slice(0, 60)}...`;
  }
  const length = typeof v === 'string' && v.length > 60 ? ` (${v.length} characters)` : '';
  return `${text}${length}`;
}

function refuse(field: string, expected: string, value: unknown): FlowRefusal {
  return { field, message: `"${field}" must be ${expected}, got ${preview(value)}` };
}

/** Removes `obj[key]` and reports it. */
function drop(obj: Obj, key: string, field: string, onDropped: DroppedFieldHandler | undefined): void {
  const value = obj[key];
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removing the named bad field from a decoded flow is the point
  delete obj[key];
  onDropped?.(field, value);
}

/** Keeps the entries of a list for which `ok` holds; reports the others under `field`. */
function filterList(list: unknown[], ok: (v: unknown) => boolean, field: string, onDropped: DroppedFieldHandler | undefined): unknown[] {
  for (let i = 0; i < list.length; i++) {
    if (ok(list[i])) continue;
    // Rare: copy once, then keep filtering the copy.
    const kept = list.slice(0, i);
    for (let j = i; j < list.length; j++) {
      if (ok(list[j])) kept.push(list[j]);
      else onDropped?.(field, list[j]);
    }
    return kept;
  }
  return list;
}

/**
 * A label is a string of bounded length. Labels are stored as a list, not indexed, so other
 * characters are kept as given; a `reserved:NAME` label, which becomes an endpoint id, must also be
 * free of control characters. (Scanning every character of every label cost about as much as
 * aggregating the flow.)
 */
function isLabel(v: unknown): boolean {
  if (typeof v !== 'string' || v.length === 0 || v.length > FLOW_LIMITS.label) return false;
  return v.charCodeAt(0) !== 114 /* r */ || !v.startsWith('reserved:') || !hasBadChar(v);
}
const isAddress = (v: unknown) =>
  v === undefined || v === '' || (typeof v === 'string' && v.length <= FLOW_LIMITS.ip && IP_ADDRESS.test(v));
const isDnsName = (v: unknown) =>
  typeof v === 'string' && (v === '' || (v.length <= FLOW_LIMITS.dnsName && !hasBadChar(v) && !v.includes(' ')));

/**
 * Checks `flow[side]`. A field to drop is dropped from a copy of the endpoint that replaces it in
 * this flow: the decoder shares one frozen endpoint object among the flows of a pod (see
 * `readMemoised` in src/hubble/fast-decoder.ts), so each flow gets its own cleaned copy and each
 * reports what it dropped.
 */
function checkEndpoint(flow: Obj, side: 'source' | 'destination', onDropped: DroppedFieldHandler | undefined): FlowRefusal | undefined {
  const ep = flow[side];
  if (ep === undefined || ep === null) return undefined;
  if (!isObject(ep)) return refuse(side, 'an object', ep);
  const { namespace, pod_name: podName, identity, labels, cluster_name: cluster, workloads } = ep;
  let copy: Obj | undefined;
  const own = (): Obj => {
    if (copy === undefined) flow[side] = copy = { ...ep };
    return copy;
  };
  // The pod id is `namespace/pod`: a slash in the namespace would make two pods one.
  if (namespace !== undefined && namespace !== '' && !(isText(namespace, FLOW_LIMITS.name) && !namespace.includes('/'))) {
    return refuse(`${side}.namespace`, `a name of at most ${FLOW_LIMITS.name} characters without "/" or control characters`, namespace);
  }
  if (podName !== undefined && podName !== '' && !isText(podName, FLOW_LIMITS.name)) {
    return refuse(`${side}.pod_name`, `a name of at most ${FLOW_LIMITS.name} characters without control characters`, podName);
  }
  if (identity !== undefined && !isInt(identity, 0, UINT32_MAX))
    return refuse(`${side}.identity`, 'an integer from 0 to 4294967295', identity);
  if (labels !== undefined) {
    if (!Array.isArray(labels) || labels.length > FLOW_LIMITS.labels)
      return refuse(`${side}.labels`, `a list of at most ${FLOW_LIMITS.labels} strings`, labels);
    // The common case without a callback per label: every label valid.
    let valid = true;
    for (let i = 0; i < labels.length && valid; i++) valid = isLabel(labels[i]);
    if (!valid) own().labels = filterList(labels, isLabel, `${side}.labels`, onDropped);
  }
  if (cluster !== undefined && !isText(cluster, FLOW_LIMITS.name)) drop(own(), 'cluster_name', `${side}.cluster_name`, onDropped);
  if (workloads !== undefined) {
    if (!Array.isArray(workloads)) drop(own(), 'workloads', `${side}.workloads`, onDropped);
    else {
      const kept = filterList(
        workloads,
        (w) => isObject(w) && (w.name === undefined || isText(w.name, FLOW_LIMITS.name)) && (w.kind === undefined || isText(w.kind, 63)),
        `${side}.workloads`,
        onDropped,
      );
      if (kept !== workloads) own().workloads = kept;
    }
  }
  return undefined;
}

function checkNames(
  flow: Obj,
  key: 'source_names' | 'destination_names',
  onDropped: DroppedFieldHandler | undefined,
): FlowRefusal | undefined {
  const names = flow[key];
  if (names === undefined || names === null) return undefined;
  if (!Array.isArray(names) || names.length > FLOW_LIMITS.dnsNames)
    return refuse(key, `a list of at most ${FLOW_LIMITS.dnsNames} DNS names`, names);
  const kept = filterList(names, isDnsName, key, onDropped);
  if (kept !== names) flow[key] = kept;
  return undefined;
}

function checkPorts(l4: Obj, proto: 'TCP' | 'UDP' | 'SCTP'): FlowRefusal | undefined {
  const ports = l4[proto];
  if (ports === undefined || ports === null) return undefined;
  if (!isObject(ports)) return refuse(`l4.${proto}`, 'an object', ports);
  if (ports.source_port !== undefined && !isInt(ports.source_port, 0, PORT_MAX))
    return refuse(`l4.${proto}.source_port`, 'a port from 0 to 65535', ports.source_port);
  if (ports.destination_port !== undefined && !isInt(ports.destination_port, 0, PORT_MAX)) {
    return refuse(`l4.${proto}.destination_port`, 'a port from 0 to 65535', ports.destination_port);
  }
  if (proto === 'TCP' && ports.flags !== undefined && ports.flags !== null) {
    // SYN and ACK decide direction and opens; the other flags are not read.
    const flags = ports.flags;
    if (!isObject(flags)) return refuse('l4.TCP.flags', 'an object of booleans', flags);
    if (flags.SYN !== undefined && typeof flags.SYN !== 'boolean') return refuse('l4.TCP.flags.SYN', 'a boolean', flags.SYN);
    if (flags.ACK !== undefined && typeof flags.ACK !== 'boolean') return refuse('l4.TCP.flags.ACK', 'a boolean', flags.ACK);
  }
  return undefined;
}

function checkIcmp(l4: Obj, proto: 'ICMPv4' | 'ICMPv6'): FlowRefusal | undefined {
  const icmp = l4[proto];
  if (icmp === undefined || icmp === null) return undefined;
  if (!isObject(icmp)) return refuse(`l4.${proto}`, 'an object', icmp);
  if (icmp.type !== undefined && !isInt(icmp.type, 0, 255)) return refuse(`l4.${proto}.type`, 'an integer from 0 to 255', icmp.type);
  if (icmp.code !== undefined && !isInt(icmp.code, 0, 255)) return refuse(`l4.${proto}.code`, 'an integer from 0 to 255', icmp.code);
  return undefined;
}

function checkL7(l7: Obj, onDropped: DroppedFieldHandler | undefined): void {
  if (l7.type !== undefined && !(typeof l7.type === 'string' && L7_TYPES.has(l7.type))) drop(l7, 'type', 'l7.type', onDropped);
  const latency = l7.latency_ns;
  if (latency !== undefined) {
    if (typeof latency === 'number' && Number.isSafeInteger(latency) && latency >= 0) l7.latency_ns = String(latency);
    else if (!(typeof latency === 'string' && latency.length <= 20 && /^[0-9]+$/.test(latency)))
      drop(l7, 'latency_ns', 'l7.latency_ns', onDropped);
  }
  const { http, dns, kafka } = l7;
  if (http !== undefined && http !== null) {
    if (!isObject(http)) drop(l7, 'http', 'l7.http', onDropped);
    else {
      if (http.code !== undefined && !isInt(http.code, 0, 999)) drop(http, 'code', 'l7.http.code', onDropped);
      if (http.method !== undefined && !(typeof http.method === 'string' && HTTP_METHOD.test(http.method)))
        drop(http, 'method', 'l7.http.method', onDropped);
      if (http.url !== undefined && !(typeof http.url === 'string' && http.url.length <= FLOW_LIMITS.url && !hasBadChar(http.url)))
        drop(http, 'url', 'l7.http.url', onDropped);
      if (http.protocol !== undefined && !(typeof http.protocol === 'string' && HTTP_PROTOCOL.test(http.protocol)))
        drop(http, 'protocol', 'l7.http.protocol', onDropped);
      const headers = http.headers;
      if (headers !== undefined && headers !== null) {
        if (!Array.isArray(headers)) drop(http, 'headers', 'l7.http.headers', onDropped);
        else {
          const kept = filterList(
            headers,
            (h) =>
              isObject(h) &&
              (h.key === undefined || typeof h.key === 'string') &&
              (h.value === undefined || (typeof h.value === 'string' && h.value.length <= FLOW_LIMITS.label && !hasBadChar(h.value))),
            'l7.http.headers',
            onDropped,
          );
          if (kept !== headers) http.headers = kept;
        }
      }
    }
  }
  if (dns !== undefined && dns !== null) {
    if (!isObject(dns)) drop(l7, 'dns', 'l7.dns', onDropped);
    else {
      if (dns.query !== undefined && !(typeof dns.query === 'string' && isDnsName(dns.query)))
        drop(dns, 'query', 'l7.dns.query', onDropped);
      if (dns.rcode !== undefined && !isInt(dns.rcode, 0, PORT_MAX)) drop(dns, 'rcode', 'l7.dns.rcode', onDropped);
      const qtypes = dns.qtypes;
      if (qtypes !== undefined && qtypes !== null) {
        if (!Array.isArray(qtypes)) drop(dns, 'qtypes', 'l7.dns.qtypes', onDropped);
        else {
          const kept = filterList(qtypes, (q) => typeof q === 'string' && WORD.test(q), 'l7.dns.qtypes', onDropped);
          if (kept !== qtypes) dns.qtypes = kept;
        }
      }
    }
  }
  if (kafka !== undefined && kafka !== null) {
    if (!isObject(kafka)) drop(l7, 'kafka', 'l7.kafka', onDropped);
    else {
      if (kafka.error_code !== undefined && !isInt(kafka.error_code, INT32_MIN, INT32_MAX))
        drop(kafka, 'error_code', 'l7.kafka.error_code', onDropped);
      if (kafka.correlation_id !== undefined && !isInt(kafka.correlation_id, INT32_MIN, INT32_MAX))
        drop(kafka, 'correlation_id', 'l7.kafka.correlation_id', onDropped);
      if (kafka.api_key !== undefined && !(typeof kafka.api_key === 'string' && WORD.test(kafka.api_key)))
        drop(kafka, 'api_key', 'l7.kafka.api_key', onDropped);
    }
  }
}

/**
 * Checks and normalises one flow in place (see the module comment). Returns why the flow is refused,
 * or undefined when it may be counted; removed detail fields are reported to `onDropped`. Pure apart
 * from editing `flow`. An enum value our protos do not know (a newer Cilium) arrives as a number and
 * is kept as its decimal string where it names something (the verdict).
 */
export function checkFlow(input: Flow, onDropped?: DroppedFieldHandler): FlowRefusal | undefined {
  const flow = input as unknown as Obj;
  if (!isObject(flow)) return refuse('flow', 'an object', flow);
  const { time, uuid, verdict, IP: ip, l4, l7 } = flow;
  if (time !== undefined && !(typeof time === 'string' && time.length <= FLOW_LIMITS.time)) return refuse('time', 'an RFC 3339 time', time);
  if (uuid !== undefined && !isText(uuid, FLOW_LIMITS.id)) drop(flow, 'uuid', 'uuid', onDropped);
  if (verdict !== undefined) {
    if (isInt(verdict, 0, 1023)) flow.verdict = String(verdict);
    else if (!(typeof verdict === 'string' && (verdict === '' || VERDICT.test(verdict))))
      return refuse('verdict', 'a verdict name such as FORWARDED', verdict);
  }
  if (ip !== undefined && ip !== null) {
    if (!isObject(ip)) return refuse('IP', 'an object', ip);
    if (!isAddress(ip.source)) return refuse('IP.source', 'an IP address', ip.source);
    if (!isAddress(ip.destination)) return refuse('IP.destination', 'an IP address', ip.destination);
  }
  if (l4 !== undefined && l4 !== null) {
    if (!isObject(l4)) return refuse('l4', 'an object', l4);
    const bad =
      checkPorts(l4, 'TCP') ?? checkPorts(l4, 'UDP') ?? checkPorts(l4, 'SCTP') ?? checkIcmp(l4, 'ICMPv4') ?? checkIcmp(l4, 'ICMPv6');
    if (bad) return bad;
  }
  const endpoints = checkEndpoint(flow, 'source', onDropped) ?? checkEndpoint(flow, 'destination', onDropped);
  if (endpoints) return endpoints;
  const names = checkNames(flow, 'source_names', onDropped) ?? checkNames(flow, 'destination_names', onDropped);
  if (names) return names;

  const {
    node_name: node,
    traffic_direction: direction,
    is_reply: isReply,
    reply,
    drop_reason: dropReason,
    drop_reason_desc: dropDesc,
  } = flow;
  if (node !== undefined && node !== '' && !isText(node, FLOW_LIMITS.name)) drop(flow, 'node_name', 'node_name', onDropped);
  if (direction !== undefined && !(typeof direction === 'string' && DIRECTIONS.has(direction)))
    drop(flow, 'traffic_direction', 'traffic_direction', onDropped);
  if (isReply !== undefined && typeof isReply !== 'boolean') drop(flow, 'is_reply', 'is_reply', onDropped);
  if (reply !== undefined && typeof reply !== 'boolean') drop(flow, 'reply', 'reply', onDropped);
  if (dropReason !== undefined && !isInt(dropReason, 0, UINT32_MAX)) drop(flow, 'drop_reason', 'drop_reason', onDropped);
  if (dropDesc !== undefined && !(typeof dropDesc === 'string' && (dropDesc === '' || DROP_REASON.test(dropDesc))))
    drop(flow, 'drop_reason_desc', 'drop_reason_desc', onDropped);
  if (l7 !== undefined && l7 !== null) {
    if (!isObject(l7)) drop(flow, 'l7', 'l7', onDropped);
    else checkL7(l7, onDropped);
  }
  return undefined;
}
