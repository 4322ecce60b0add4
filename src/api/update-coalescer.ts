/**
 * At most one event per key per `intervalMs`: the first change of an edge goes out at once, later
 * ones within the interval are held and the latest goes out when the interval has passed. Pure:
 * the caller passes the clock.
 */
export class UpdateCoalescer<T> {
  private readonly lastEmitMs = new Map<string, number>();
  private readonly held = new Map<string, T>();

  constructor(private readonly intervalMs: number) {}

  /** Offers a change; returns what to emit now (the change itself, or nothing when held). */
  offer(key: string, value: T, nowMs: number): T[] {
    const last = this.lastEmitMs.get(key);
    if (this.intervalMs <= 0 || last === undefined || nowMs - last >= this.intervalMs) {
      this.lastEmitMs.set(key, nowMs);
      this.held.delete(key);
      return [value];
    }
    this.held.set(key, value);
    return [];
  }

  /** Held changes whose interval has passed; also forgets keys that went quiet, so memory stays bounded. */
  due(nowMs: number): T[] {
    const out: T[] = [];
    for (const [key, value] of this.held) {
      if (nowMs - (this.lastEmitMs.get(key) ?? 0) >= this.intervalMs) {
        out.push(value);
        this.held.delete(key);
        this.lastEmitMs.set(key, nowMs);
      }
    }
    for (const [key, last] of this.lastEmitMs) {
      if (!this.held.has(key) && nowMs - last >= this.intervalMs) this.lastEmitMs.delete(key);
    }
    return out;
  }

  /** Changes held right now. */
  get heldCount(): number {
    return this.held.size;
  }
}
