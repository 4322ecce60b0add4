import { PairingWindow } from '../../../src/flows/pairing-window';
import { type EdgeKind, type WindowScope, raisesMax } from '../../../src/flows/window-scope';

/** The window as a list of the last `size` entries, oldest first: what PairingWindow must count. */
class ReferenceWindow {
  readonly entries: Array<{ key: string | number; name: string; seen: number[]; timeMs: number }> = [];

  constructor(private readonly size: number) {}

  entry(key: string | number, name: string, timeMs: number): { seen: number[] } {
    let entry = this.entries.find((e) => e.key === key && e.name === name);
    if (entry === undefined) {
      entry = { key, name, seen: [0, 0, 0, 0, 0, 0], timeMs };
      this.entries.push(entry);
      if (this.entries.length > this.size) this.entries.shift();
    }
    return entry;
  }

  /** Flow time from the oldest entry to the newest. */
  reachMs(): number {
    return this.entries.length === 0 ? 0 : this.entries[this.entries.length - 1]!.timeMs - this.entries[0]!.timeMs;
  }
}

function count(seen: number[], at: number, side: number): boolean {
  const counts = raisesMax(seen[at]!, seen[at + 1]!, seen[at + 2]!, side);
  seen[at + side]! += 1;
  return counts;
}

describe('the pairing window', () => {
  const kinds: EdgeKind[] = [
    { port: 80, protocol: 'TCP', verdict: 'FORWARDED' },
    { port: 80, protocol: 'TCP', verdict: 'DROPPED' },
  ];
  const ips = ['10.0.0.1', '10.0.0.9', undefined];

  describe.each([
    ['TCP opens (small integer keys)', false],
    ['L7 exchanges (request ids and correlation ids)', true],
  ])('of %s', (_, withResponses) => {
    it.each([
      [1, 4096],
      [2, 4096],
      [7, 4096],
      [64, 4096],
      [1000, 4096],
      // Columns that start small and grow (doubling) while the window fills.
      [2, 1],
      [7, 1],
      [64, 3],
      [1000, 1],
      [5000, 4096],
    ])(
      'counts what a list of the last %i entries counts, over keys that share index places, chains and evictions (room for %i at first)',
      (size, initialCapacity) => {
        const window = new PairingWindow(size, withResponses, initialCapacity);
        const reference = new ReferenceWindow(size);
        let seed = 7 + size + (withResponses ? 1 : 0);
        const next = (n: number) => {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          return Math.floor((seed / 2 ** 32) * n);
        };
        let counted = 0;
        for (let i = 0; i < 20_000; i++) {
          // Few keys for small windows (long chains), many for large (the index fills and empties).
          const k = next(3 * size + 5);
          const key = !withResponses ? (k << 16) | (80 + next(2)) : next(3) === 0 ? k : `req-${k}-5f0c6a2e-9b1d`;
          const scope: WindowScope = {
            clientSerial: 1 + next(2),
            serverSerial: 3,
            // An equal kind as another object, as after the aggregator forgets its kinds.
            kind: next(4) === 0 ? { ...kinds[next(2)]! } : kinds[next(2)]!,
          };
          const a = ips[next(3)];
          const b = ips[next(2)];
          const side = next(3);
          const response = withResponses && next(2) === 0;
          const name = `${scope.clientSerial}/${scope.serverSerial}/${scope.kind.verdict}/${a}/${b}`;
          // Flow times that mostly rise, as a stream's do.
          const timeMs = 1_000_000 + 3 * i + next(5);
          const ref = reference.entry(key, name, timeMs);
          const e = window.entry(key, scope, a, b, timeMs);
          const state = window.state();
          if (state.size !== size || state.entries !== reference.entries.length || state.reachMs !== Math.max(0, reference.reachMs()))
            expect({ i, state }).toEqual({
              i,
              state: { size, entries: reference.entries.length, reachMs: Math.max(0, reference.reachMs()) },
            });
          if (withResponses) expect(window.attempts(e)).toBe(Math.max(...ref.seen));
          const expected = count(ref.seen, response ? 3 : 0, side);
          expect(response ? window.countResponse(e, side) : window.countRequest(e, side)).toBe(expected);
          if (expected) counted++;
        }
        expect(counted).toBeGreaterThan(5_000);
      },
    );
  });

  it('names the endpoint serials of the entries it holds, before and after it wraps', () => {
    const window = new PairingWindow(3, true);
    const held = () => {
      const serials = new Set<number>();
      window.addSerialsTo(serials);
      return [...serials].sort((x, y) => x - y);
    };
    expect(held()).toEqual([]);
    const add = (id: string, client: number, server: number) =>
      window.entry(id, { clientSerial: client, serverSerial: server, kind: kinds[0]! }, undefined, undefined, 0);
    add('r1', 1, 2);
    add('r2', 3, 2);
    expect(held()).toEqual([1, 2, 3]);
    add('r3', 4, 5);
    add('r4', 6, 5); // forgets r1: serial 1 no longer held
    expect(held()).toEqual([2, 3, 4, 5, 6]);
  });

  it('counts an open seen at both ends once and a second open of the same ports again', () => {
    const window = new PairingWindow(100, false);
    const scope: WindowScope = { clientSerial: 1, serverSerial: 2, kind: kinds[0]! };
    const key = (41_000 << 16) | 80;
    const open = (side: number) => window.countRequest(window.entry(key, scope, '10.0.0.1', '10.0.0.2', 0), side);
    expect(open(0)).toBe(true);
    expect(open(1)).toBe(false);
    expect(open(1)).toBe(true);
    expect(open(0)).toBe(false);
  });
});
