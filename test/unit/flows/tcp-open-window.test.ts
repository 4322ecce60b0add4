import { TcpOpenWindow } from '../../../src/flows/tcp-open-window';
import { type EdgeKind, type WindowScope, raisesMax } from '../../../src/flows/window-scope';

/** The window as a list of the last `size` opens, oldest first: what TcpOpenWindow must count. */
class ReferenceWindow {
  private readonly entries: Array<{ key: number; scope: string; seen: [number, number, number] }> = [];

  constructor(private readonly size: number) {}

  count(key: number, scope: string, side: number): boolean {
    let entry = this.entries.find((e) => e.key === key && e.scope === scope);
    if (entry === undefined) {
      entry = { key, scope, seen: [0, 0, 0] };
      this.entries.push(entry);
      if (this.entries.length > this.size) this.entries.shift();
    }
    const counts = raisesMax(entry.seen[0], entry.seen[1], entry.seen[2], side);
    entry.seen[side]! += 1;
    return counts;
  }
}

describe('the TCP open window', () => {
  const kinds: EdgeKind[] = [
    { port: 80, protocol: 'TCP', verdict: 'FORWARDED' },
    { port: 80, protocol: 'TCP', verdict: 'DROPPED' },
  ];
  const ips = ['10.0.0.1', '10.0.0.9', undefined];

  it.each([1, 2, 7, 64, 1000])(
    'counts what a list of the last %i opens counts, over keys that share index places, chains and evictions',
    (size) => {
      const window = new TcpOpenWindow(size);
      const reference = new ReferenceWindow(size);
      let seed = 7 + size;
      const next = (n: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return Math.floor((seed / 2 ** 32) * n);
      };
      let counted = 0;
      for (let i = 0; i < 20_000; i++) {
        // Few keys for small windows (long chains), many for large (the index fills and empties).
        const key = (next(3 * size + 5) << 16) | (80 + next(2));
        const scope: WindowScope = {
          clientSerial: 1 + next(2),
          serverSerial: 3,
          // An equal kind as another object, as after the aggregator forgets its kinds.
          kind: next(4) === 0 ? { ...kinds[next(2)]! } : kinds[next(2)]!,
        };
        const clientIp = ips[next(3)];
        const serverIp = ips[next(2)];
        const side = next(3);
        const name = `${scope.clientSerial}/${scope.serverSerial}/${scope.kind.verdict}/${clientIp}/${serverIp}`;
        const expected = reference.count(key, name, side);
        expect(window.count(key, scope, clientIp, serverIp, side)).toBe(expected);
        if (expected) counted++;
      }
      expect(counted).toBeGreaterThan(5_000);
    },
  );

  it('counts an open seen at both ends once and a second open of the same ports again', () => {
    const window = new TcpOpenWindow(100);
    const scope: WindowScope = { clientSerial: 1, serverSerial: 2, kind: kinds[0]! };
    const key = (41_000 << 16) | 80;
    expect(window.count(key, scope, '10.0.0.1', '10.0.0.2', 0)).toBe(true);
    expect(window.count(key, scope, '10.0.0.1', '10.0.0.2', 1)).toBe(false);
    expect(window.count(key, scope, '10.0.0.1', '10.0.0.2', 1)).toBe(true);
    expect(window.count(key, scope, '10.0.0.1', '10.0.0.2', 0)).toBe(false);
  });
});
