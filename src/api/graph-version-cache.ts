/**
 * Results of expensive whole-graph reads (service maps), reused while the graph's version (the
 * change-feed sequence) is unchanged, and, with `maxAgeMs`, for that long after they were computed
 * whatever the version (HG_API_MAP_MAX_AGE). Requests that miss on the same key and version at the
 * same time share one computation (after each write batch, every client of a busy map asks again at
 * once). Bounded: the oldest entry goes when `maxEntries` is reached; a failed computation is not kept.
 */
export class GraphVersionCache {
  private readonly entries = new Map<string, { version: string; storedAtMs: number; value: Promise<unknown> }>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries = 128,
    private readonly maxAgeMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value stored (or being computed) for `key` at `version`, or `compute()`'s result, stored for next time. */
  get<T>(key: string, version: string, compute: () => Promise<T>): Promise<T> {
    const kept = this.lookup<T>(key, version);
    if (kept !== undefined) return kept;
    const value = compute();
    this.store(key, version, value);
    return value;
  }

  /** The value stored (or being computed) for `key` at `version` or younger than `maxAgeMs`, counted as a hit; undefined (a miss) when there is none. */
  lookup<T>(key: string, version: string): Promise<T> | undefined {
    const entry = this.entries.get(key);
    if (entry && (entry.version === version || this.now() - entry.storedAtMs < this.maxAgeMs)) {
      this.hits++;
      return entry.value as Promise<T>;
    }
    this.misses++;
    return undefined;
  }

  /** Keeps `value` for `key` at `version` (replacing what the key held); dropped again if it fails. */
  store(key: string, version: string, value: Promise<unknown>): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    const stored = { version, storedAtMs: this.now(), value };
    this.entries.set(key, stored);
    value.catch(() => {
      if (this.entries.get(key) === stored) this.entries.delete(key);
    });
  }
}
