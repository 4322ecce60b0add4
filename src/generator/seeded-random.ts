/**
 * The project's one seeded pseudo-random generator (sfc32: small, fast, well distributed, 128 bits
 * of state): the same seed gives the same sequence of numbers in [0, 1) on every run and machine,
 * so that generated data, benchmarks and randomized tests can be repeated.
 */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** One of `items`, each equally likely; throws on an empty list (a generator bug, not bad input). */
export function pickUniform<T>(rng: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new RangeError('pickUniform: nothing to pick from an empty list');
  return item;
}

/** An item picked with probability proportional to its weight (`cumulative`: running sums of the weights). */
export function pickWeighted<T>(rng: () => number, cumulative: Float64Array, items: readonly T[]): T {
  const target = rng() * (cumulative[cumulative.length - 1] ?? 0);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cumulative[mid] ?? 0) > target) hi = mid;
    else lo = mid + 1;
  }
  const item = items[lo];
  if (item === undefined) throw new RangeError('pickWeighted: nothing to pick from an empty list');
  return item;
}
