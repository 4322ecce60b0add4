import type { Flow } from './flow';

/** IP protocol names as the graph keys them (the `l4` oneof of Hubble's flow). */
export type IpProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6';

/** How a flow maps onto a client -> server edge. */
export interface FlowOrientation {
  /** True when the flow's source is the server (a reply or response): source and destination swap. */
  readonly reversed: boolean;
  readonly protocol: IpProtocol;
  /** The server's port (0 for ICMP). */
  readonly port: number;
  /** The client's port (0 for ICMP). */
  readonly clientPort: number;
  /** A TCP SYN without ACK: a connection being opened by the client. */
  readonly tcpOpen: boolean;
  /** How the direction was decided (for tests and docs). */
  readonly rule: OrientationRule;
}

export type OrientationRule = 'l7' | 'is_reply' | 'reply' | 'tcp_flags' | 'icmp_type' | 'ports' | 'as_observed';

/** First port of the ephemeral range (Linux's default net.ipv4.ip_local_port_range starts at 32768). */
export const EPHEMERAL_PORT_MIN = 32768;
/** Ports below this are well-known (IANA system ports). */
export const WELL_KNOWN_PORT_MAX = 1023;

function portClass(port: number): number {
  if (port <= WELL_KNOWN_PORT_MAX) return 0;
  if (port < EPHEMERAL_PORT_MIN) return 1;
  return 2;
}

/**
 * True when the port rule names the flow's source as the server: the side whose port is in the
 * "more server-like" class wins — well-known (< 1024) over registered (1024..32767) over ephemeral
 * (>= 32768). Ports of the same class leave the flow as observed (source = client).
 */
export function sourceIsServerByPorts(sourcePort: number, destinationPort: number): boolean {
  return portClass(sourcePort) < portClass(destinationPort);
}

/**
 * Decides the direction of a flow; undefined when it has no L4 (skip reason `no_l4`).
 *
 * In order, the first rule that applies:
 * 1. L7 events: `RESPONSE` is from the server (reversed), `REQUEST` from the client.
 * 2. `is_reply` when present (Cilium >= 1.11 sets it when it knows; drops often lack it).
 * 3. the deprecated `reply: true` (older Cilium sets only this; its `false` is indistinguishable
 *    from absent in JSON, so only `true` decides).
 * 4. TCP flags: SYN without ACK opens (source = client); SYN+ACK answers (source = server).
 * 5. ICMP type: echo reply (ICMPv4 type 0, ICMPv6 129) is a reply; other types are as observed.
 * 6. Ports (TCP/UDP/SCTP): see sourceIsServerByPorts.
 */
export function orientFlow(flow: Flow): FlowOrientation | undefined {
  const out: MutableOrientation = { reversed: false, protocol: 'TCP', port: 0, clientPort: 0, tcpOpen: false, rule: 'as_observed' };
  return orientFlowInto(flow, out) ? out : undefined;
}

/** A FlowOrientation that the aggregator reuses from flow to flow. */
export type MutableOrientation = { -readonly [K in keyof FlowOrientation]: FlowOrientation[K] };

/** orientFlow without allocating: fills `out`; false when the flow has no L4. */
export function orientFlowInto(flow: Flow, out: MutableOrientation): boolean {
  const l4 = flow.l4;
  if (l4 === undefined || l4 === null) return false;
  let protocol: IpProtocol;
  let sp = 0;
  let dp = 0;
  let flags: { SYN?: boolean; ACK?: boolean } | undefined;
  let icmpReply = false;
  let isIcmp = false;
  if (l4.TCP) {
    protocol = 'TCP';
    sp = l4.TCP.source_port ?? 0;
    dp = l4.TCP.destination_port ?? 0;
    flags = l4.TCP.flags;
  } else if (l4.UDP) {
    protocol = 'UDP';
    sp = l4.UDP.source_port ?? 0;
    dp = l4.UDP.destination_port ?? 0;
  } else if (l4.SCTP) {
    protocol = 'SCTP';
    sp = l4.SCTP.source_port ?? 0;
    dp = l4.SCTP.destination_port ?? 0;
  } else if (l4.ICMPv4) {
    protocol = 'ICMPv4';
    isIcmp = true;
    icmpReply = (l4.ICMPv4.type ?? 0) === 0;
  } else if (l4.ICMPv6) {
    protocol = 'ICMPv6';
    isIcmp = true;
    icmpReply = (l4.ICMPv6.type ?? 0) === 129;
  } else {
    return false;
  }
  const tcpOpen = flags !== undefined && flags.SYN === true && flags.ACK !== true;
  let reversed: boolean;
  let rule: OrientationRule;
  const l7type = flow.l7?.type;
  if (l7type === 'RESPONSE') {
    reversed = true;
    rule = 'l7';
  } else if (l7type === 'REQUEST') {
    reversed = false;
    rule = 'l7';
  } else if (flow.is_reply === true || flow.is_reply === false) {
    reversed = flow.is_reply;
    rule = 'is_reply';
  } else if (flow.reply === true) {
    reversed = true;
    rule = 'reply';
  } else if (flags !== undefined && flags.SYN === true) {
    reversed = flags.ACK === true;
    rule = 'tcp_flags';
  } else if (isIcmp) {
    reversed = icmpReply;
    rule = 'icmp_type';
  } else if (sourceIsServerByPorts(sp, dp)) {
    reversed = true;
    rule = 'ports';
  } else {
    reversed = false;
    rule = portClass(sp) === portClass(dp) ? 'as_observed' : 'ports';
  }
  out.reversed = reversed;
  out.protocol = protocol;
  out.port = reversed ? sp : dp;
  out.clientPort = reversed ? dp : sp;
  out.tcpOpen = tcpOpen && !reversed;
  out.rule = rule;
  return true;
}
