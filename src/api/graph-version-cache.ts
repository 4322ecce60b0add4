/**
 * Results of expensive whole-graph reads (service maps), reused while the graph's version (the
 * change-feed sequence) is unchanged. Bounded: the oldest entry goes when `maxEntries` is reached.
 */
export class GraphVersionCache {
  private readonly entries = new Map<string, { version: string; value: unknown }>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 128) {}

  /** The value stored for `key` at `version`, or `compute()`'s result, stored for next time. */
  async get<T>(key: string, version: string, compute: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && entry.version === version) {
      this.hits++;
      return entry.value as T;
    }
    this.misses++;
    const value = await compute();
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { version, value });
    return value;
  }
}
