/**
 * What the aggregator's pairing windows know an edge by, and their counting rule (see
 * edge-aggregator.ts and tcp-open-window.ts).
 */

/**
 * What tells apart the edges between the same two endpoints. One shared object per distinct port,
 * protocol and verdict (EdgeKinds in edge-aggregator.ts): an edge refers to it instead of holding
 * the three itself.
 */
export interface EdgeKind {
  readonly port: number;
  readonly protocol: string;
  readonly verdict: string;
}

export function isKind(kind: EdgeKind, port: number, protocol: string, verdict: string): boolean {
  return kind.port === port && kind.protocol === protocol && kind.verdict === verdict;
}

/** The same kind: kinds outlive a delta in the windows, and may then be other objects of equal value. */
export function sameKind(a: EdgeKind, b: EdgeKind): boolean {
  return a === b || isKind(a, b.port, b.protocol, b.verdict);
}

/** An edge as the pairing windows name it (the same across drains): its ends' serials and its kind. */
export interface WindowScope {
  readonly clientSerial: number;
  readonly serverSerial: number;
  readonly kind: EdgeKind;
}

/**
 * The counting rule of the pairing windows: an observation of a request (or TCP open) from `side`
 * (0 EGRESS, 1 INGRESS, 2 unknown), given what each side had seen before it, counts when it raises
 * the maximum over the sides. The same packet or request seen at the client's egress and the
 * server's ingress counts once, while a repeat on the same side (a retry) counts again, whatever the
 * interleaving of the two ends.
 */
export function raisesMax(seen0: number, seen1: number, seen2: number, side: number): boolean {
  const mine = side === 0 ? seen0 : side === 1 ? seen1 : seen2;
  return mine >= Math.max(seen0, seen1, seen2);
}
