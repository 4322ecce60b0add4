import { type EdgeKind, type WindowScope, raisesMax, sameKind } from './window-scope';

/**
 * The pairing window of TCP opens: the last `size` opens (oldest forgotten first), each found by its
 * key (client and server port, see tcpOpenKey in edge-aggregator.ts), its edge and its two IPs, with
 * the opens seen from each side. Laid out in columns indexed by ring position, with an
 * open-addressing index from key to the newest entry of that key (entries sharing a key are chained):
 * about 60 bytes per entry where an object per entry, a Map and a ring took about 130 (a full window
 * holds 100,000; the bound for both windows is 32 MB).
 */
export class TcpOpenWindow {
  private readonly keys: Int32Array;
  /** Endpoint serials: unsigned 32-bit (4 billion endpoints before they would wrap). */
  private readonly clients: Uint32Array;
  private readonly servers: Uint32Array;
  private readonly kinds: Array<EdgeKind | undefined>;
  private readonly clientIps: Array<string | undefined>;
  private readonly serverIps: Array<string | undefined>;
  /** Opens seen at EGRESS, INGRESS, unknown side: three per entry. */
  private readonly seen: Uint32Array;
  /** The next (older) entry of the same key, plus one; 0 ends the chain. */
  private readonly older: Int32Array;
  /** Open addressing, at most half full: the newest entry of a key, plus one; 0 empty. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private position = 0;
  private used = 0;

  constructor(private readonly size: number) {
    const n = Math.max(1, size);
    this.size = n;
    this.keys = new Int32Array(n);
    this.clients = new Uint32Array(n);
    this.servers = new Uint32Array(n);
    this.kinds = new Array<EdgeKind | undefined>(n).fill(undefined);
    this.clientIps = new Array<string | undefined>(n).fill(undefined);
    this.serverIps = new Array<string | undefined>(n).fill(undefined);
    this.seen = new Uint32Array(3 * n);
    this.older = new Int32Array(n);
    let capacity = 4;
    while (capacity < 2 * n) capacity *= 2;
    this.index = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /**
   * Takes in the open of (key, scope, clientIp, serverIp) seen from `side`; true when it counts
   * (raisesMax). A new open takes the place of the oldest once the window is full.
   */
  count(key: number, scope: WindowScope, clientIp: string | undefined, serverIp: string | undefined, side: number): boolean {
    let entry = this.find(key, scope, clientIp, serverIp);
    if (entry < 0) entry = this.add(key, scope, clientIp, serverIp);
    const at = 3 * entry;
    const seen = this.seen;
    const counts = raisesMax(seen[at] as number, seen[at + 1] as number, seen[at + 2] as number, side);
    const mine = at + Math.min(side, 2);
    seen[mine] = (seen[mine] as number) + 1;
    return counts;
  }

  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) & this.mask;
  }

  /** The index position of `key`, or -1. */
  private slotOf(key: number): number {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const at = this.index[i] as number;
      if (at === 0) return -1;
      if (this.keys[at - 1] === key) return i;
    }
  }

  private find(key: number, scope: WindowScope, clientIp: string | undefined, serverIp: string | undefined): number {
    const slot = this.slotOf(key);
    if (slot < 0) return -1;
    const { clientSerial, serverSerial, kind } = scope;
    for (let e = (this.index[slot] as number) - 1; e >= 0; e = (this.older[e] as number) - 1) {
      if (
        this.clients[e] === clientSerial &&
        this.servers[e] === serverSerial &&
        this.clientIps[e] === clientIp &&
        this.serverIps[e] === serverIp &&
        sameKind(this.kinds[e] as EdgeKind, kind)
      )
        return e;
    }
    return -1;
  }

  private add(key: number, scope: WindowScope, clientIp: string | undefined, serverIp: string | undefined): number {
    const e = this.position;
    this.position = (e + 1) % this.size;
    if (this.used === this.size) this.forget(e);
    else this.used++;
    this.keys[e] = key;
    this.clients[e] = scope.clientSerial;
    this.servers[e] = scope.serverSerial;
    this.kinds[e] = scope.kind;
    this.clientIps[e] = clientIp;
    this.serverIps[e] = serverIp;
    this.seen.fill(0, 3 * e, 3 * e + 3);
    const slot = this.slotOf(key);
    if (slot >= 0) {
      this.older[e] = this.index[slot] as number;
      this.index[slot] = e + 1;
    } else {
      this.older[e] = 0;
      let i = this.home(key);
      while (this.index[i] !== 0) i = (i + 1) & this.mask;
      this.index[i] = e + 1;
    }
    return e;
  }

  /** Takes entry `e` (the oldest) out of its key's chain, and the key out of the index when it was the last. */
  private forget(e: number): void {
    const slot = this.slotOf(this.keys[e] as number);
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
    this.kinds[e] = undefined;
    this.clientIps[e] = undefined;
    this.serverIps[e] = undefined;
  }

  /** Empties index position `i`, moving back the entries after it that would no longer be found (linear probing). */
  private removeAt(i: number): void {
    const mask = this.mask;
    let hole = i;
    for (let j = (i + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = this.home(this.keys[(this.index[j] as number) - 1] as number);
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
