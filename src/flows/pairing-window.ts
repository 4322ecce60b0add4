import { type EdgeKind, type WindowScope, raisesMax, sameKind } from './window-scope';

/** What a pairing window holds: its entries and how far back in flow time they reach (ms). */
export interface PairingWindowState {
  /** The most entries it holds. */
  readonly size: number;
  readonly entries: number;
  readonly reachMs: number;
}

/** The aggregator's two pairing windows (TCP opens; L7 exchanges), each as PairingWindowState. */
export type PairingWindowsState = Readonly<Record<'tcpOpens' | 'exchanges', PairingWindowState>>;

/** Observations of one entry's side: EGRESS, INGRESS, unknown. */
const SIDES = 3;

/**
 * A bounded pairing window: the last `size` TCP opens or L7 exchanges (oldest forgotten first),
 * each found by its key (a TCP open's client and server port, see tcpOpenKey in
 * edge-aggregator.ts; an exchange's request id, DNS name or Kafka correlation id), its edge and two
 * discriminators, with its requests (or opens) and, for exchanges, its responses seen from each
 * side. Laid out in columns indexed by ring position, with an open-addressing index from a key's
 * hash to the newest entry of that key (entries sharing a key are chained): about 83 bytes per entry
 * where an object per entry, a Map and a ring took 130 to 180 (a full window holds 100,000 by
 * default; the bound for both windows together is 32 MB). The columns grow to `size` as
 * entries come, so that an idle or small collector does not hold a large bound's room.
 */
export class PairingWindow {
  private readonly size: number;
  /** Entries the columns have room for: they grow (doubling) up to `size` as entries come. */
  private capacity = 0;
  private keys: Array<string | number | undefined> = [];
  private hashes = new Int32Array(0);
  /** Endpoint serials: unsigned 32-bit (4 billion endpoints before they would wrap). */
  private clients = new Uint32Array(0);
  private servers = new Uint32Array(0);
  private kinds: Array<EdgeKind | undefined> = [];
  private as: Array<string | undefined> = [];
  private bs: Array<string | undefined> = [];
  /** Flow time (ms) of the observation that made each entry: how far back the window reaches. */
  private times = new Float64Array(0);
  /** Per entry, requests (or opens) seen from each side, then (with responses) responses. */
  private seen = new Uint32Array(0);
  private readonly stride: number;
  /** The next (older) entry of the same key, plus one; 0 ends the chain. */
  private older = new Int32Array(0);
  /** Open addressing, at most half full: the newest entry of a key, plus one; 0 empty. */
  private index = new Int32Array(0);
  private mask = 0;
  private position = 0;
  private used = 0;

  /**
   * `size`: the most entries it holds (HG_PAIRING_WINDOW). Its columns start with room for
   * `initialCapacity` entries and double as entries come, so that a large bound costs only what the
   * traffic fills.
   */
  constructor(size: number, withResponses: boolean, initialCapacity = 4096) {
    this.size = Math.max(1, size);
    this.stride = withResponses ? 2 * SIDES : SIDES;
    this.grow(Math.min(this.size, Math.max(1, initialCapacity)));
  }

  /** Gives the columns room for `capacity` entries, keeping the `used` ones where they are, and rebuilds the index. */
  private grow(capacity: number): void {
    const used = this.used;
    const column = <T>(old: Array<T | undefined>): Array<T | undefined> => {
      const next = new Array<T | undefined>(capacity).fill(undefined);
      for (let e = 0; e < used; e++) next[e] = old[e];
      return next;
    };
    const typed = <A extends Int32Array | Uint32Array | Float64Array>(old: A, make: (n: number) => A, per = 1): A => {
      const next = make(capacity * per);
      next.set(old.subarray(0, used * per));
      return next;
    };
    this.keys = column(this.keys);
    this.kinds = column(this.kinds);
    this.as = column(this.as);
    this.bs = column(this.bs);
    this.hashes = typed(this.hashes, (n) => new Int32Array(n));
    this.clients = typed(this.clients, (n) => new Uint32Array(n));
    this.servers = typed(this.servers, (n) => new Uint32Array(n));
    this.times = typed(this.times, (n) => new Float64Array(n));
    this.older = typed(this.older, (n) => new Int32Array(n));
    this.seen = typed(this.seen, (n) => new Uint32Array(n), this.stride);
    this.capacity = capacity;
    let slots = 4;
    while (slots < 2 * capacity) slots *= 2;
    this.index = new Int32Array(slots);
    this.mask = slots - 1;
    // Before the ring first wraps, entries sit in the order they came: the last one of a key seen
    // is its newest, the head of its chain (the chains, `older`, stay as they are).
    for (let e = 0; e < used; e++) {
      const hash = this.hashes[e] as number;
      const slot = this.slotOf(this.keys[e] as string | number, hash);
      if (slot >= 0) this.index[slot] = e + 1;
      else this.insertAt(hash, e);
    }
  }

  /**
   * The entry of (key, scope, a, b), made (its counts zero) when new, in the place of the oldest once
   * full; `timeMs` is the flow time of the observation, kept when it makes the entry.
   */
  entry(key: string | number, scope: WindowScope, a: string | undefined, b: string | undefined, timeMs: number): number {
    const hash = hashOf(key);
    const slot = this.slotOf(key, hash);
    if (slot >= 0) {
      const { clientSerial, serverSerial, kind } = scope;
      for (let e = (this.index[slot] as number) - 1; e >= 0; e = (this.older[e] as number) - 1) {
        if (
          this.clients[e] === clientSerial &&
          this.servers[e] === serverSerial &&
          this.as[e] === a &&
          this.bs[e] === b &&
          sameKind(this.kinds[e] as EdgeKind, kind)
        )
          return e;
      }
    }
    return this.add(key, hash, scope, a, b, timeMs);
  }

  /** What the window holds (see PairingWindowState). */
  state(): PairingWindowState {
    return { size: this.size, entries: this.used, reachMs: this.reachMs() };
  }

  /**
   * Flow time between the oldest entry held and the newest (ms; 0 when empty): once the window is
   * full, the two ends of an exchange seen further apart than this no longer find each other.
   */
  private reachMs(): number {
    if (this.used === 0) return 0;
    const newest = (this.position + this.size - 1) % this.size;
    const oldest = this.used < this.size ? 0 : this.position;
    return Math.max(0, (this.times[newest] as number) - (this.times[oldest] as number));
  }

  /** Adds to `into` the endpoint serials of every entry held (the ends whose exchanges the window can still pair). */
  addSerialsTo(into: Set<number>): void {
    // Entries fill ring positions from 0 and stay filled: the first `used` positions hold them all.
    for (let e = 0; e < this.used; e++) {
      into.add(this.clients[e] as number);
      into.add(this.servers[e] as number);
    }
  }

  /** Counts a request (or TCP open) of entry `e` seen from `side`: true when it counts (raisesMax). */
  countRequest(e: number, side: number): boolean {
    return this.countAt(this.stride * e, side);
  }

  /** countRequest for an exchange's responses. */
  countResponse(e: number, side: number): boolean {
    return this.countAt(this.stride * e + SIDES, side);
  }

  /** The attempts of an exchange seen so far: the larger of its counted requests and responses. */
  attempts(e: number): number {
    const at = this.stride * e;
    let most = 0;
    for (let i = at; i < at + this.stride; i++) most = Math.max(most, this.seen[i] as number);
    return most;
  }

  private countAt(at: number, side: number): boolean {
    const seen = this.seen;
    const counts = raisesMax(seen[at] as number, seen[at + 1] as number, seen[at + 2] as number, side);
    const mine = at + Math.min(side, SIDES - 1);
    seen[mine] = (seen[mine] as number) + 1;
    return counts;
  }

  /** The index position of `key`, or -1. */
  private slotOf(key: string | number, hash: number): number {
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const at = this.index[i] as number;
      if (at === 0) return -1;
      if (this.hashes[at - 1] === hash && this.keys[at - 1] === key) return i;
    }
  }

  private add(
    key: string | number,
    hash: number,
    scope: WindowScope,
    a: string | undefined,
    b: string | undefined,
    timeMs: number,
  ): number {
    if (this.used === this.capacity && this.capacity < this.size) this.grow(Math.min(this.size, 2 * this.capacity));
    const e = this.position;
    this.position = (e + 1) % this.size;
    if (this.used === this.size) this.forget(e);
    else this.used++;
    this.keys[e] = key;
    this.hashes[e] = hash;
    this.clients[e] = scope.clientSerial;
    this.servers[e] = scope.serverSerial;
    this.kinds[e] = scope.kind;
    this.as[e] = a;
    this.bs[e] = b;
    this.times[e] = timeMs;
    this.seen.fill(0, this.stride * e, this.stride * (e + 1));
    const slot = this.slotOf(key, hash);
    if (slot >= 0) {
      this.older[e] = this.index[slot] as number;
      this.index[slot] = e + 1;
    } else {
      this.older[e] = 0;
      this.insertAt(hash, e);
    }
    return e;
  }

  /** Puts entry `e`, the first of its key, in the index (the first free place from its hash's home). */
  private insertAt(hash: number, e: number): void {
    let i = hash & this.mask;
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = e + 1;
  }

  /** Takes entry `e` (the oldest) out of its key's chain, and the key out of the index when it was the last. */
  private forget(e: number): void {
    const slot = this.slotOf(this.keys[e] as string | number, this.hashes[e] as number);
    const newest = (this.index[slot] as number) - 1;
    if (newest === e) {
      if (this.older[e] !== 0) this.index[slot] = this.older[e] as number;
      else this.removeAt(slot);
    } else {
      // The oldest entry is the chain's last: unlink it from the one before.
      let before = newest;
      while ((this.older[before] as number) - 1 !== e) before = (this.older[before] as number) - 1;
      this.older[before] = this.older[e] as number;
    }
    this.keys[e] = undefined;
    this.kinds[e] = undefined;
    this.as[e] = undefined;
    this.bs[e] = undefined;
  }

  /** Empties index position `i`, moving back the entries after it that would no longer be found (linear probing). */
  private removeAt(i: number): void {
    const mask = this.mask;
    let hole = i;
    for (let j = (i + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = (this.hashes[(this.index[j] as number) - 1] as number) & mask;
      // The entry at j stays when its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        this.index[hole] = this.index[j] as number;
        hole = j;
      }
    }
    this.index[hole] = 0;
  }
}

/** A key's hash: integers mixed, strings hashed over their UTF-16 units (FNV-1a, then mixed). */
function hashOf(key: string | number): number {
  let h: number;
  if (typeof key === 'number') {
    h = Math.imul(key | 0, 0x9e3779b1) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b);
  } else {
    h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h | 0;
}
