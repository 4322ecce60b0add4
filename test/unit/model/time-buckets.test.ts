import {
  beforeRange,
  coverRange,
  elapsedSeconds,
  keptSinceMs,
  parseBucketSpec,
  parseRangeInstant,
  resolveRange,
  type BucketSpec,
} from '../../../src/model/time-buckets';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('parseBucketSpec', () => {
  it('reads the default: 1-minute buckets kept 48 h, 1-hour buckets kept 30 days', () => {
    expect(parseBucketSpec('1m:48h,1h:30d')).toEqual([
      { sizeMs: MIN, retentionMs: 48 * HOUR },
      { sizeMs: HOUR, retentionMs: 30 * DAY },
    ]);
  });

  it('turns buckets off with off or nothing', () => {
    expect(parseBucketSpec('off')).toEqual([]);
    expect(parseBucketSpec('')).toEqual([]);
  });

  it.each([
    ['1m', 'expected SIZE:RETENTION such as 1m:48h (units s, m, h, d), got "1m"'],
    ['1h:1d,1m:1d', 'bucket size 1m is not a larger whole multiple of the size before it'],
    ['7m:1d', 'bucket size 7m does not divide a day'],
    ['1h:30m', 'retention 30m is shorter than its bucket size 1h'],
    ['1m:48x', 'expected SIZE:RETENTION such as 1m:48h (units s, m, h, d), got "1m:48x"'],
  ])('refuses %s and says why', (text, message) => {
    expect(parseBucketSpec(text)).toBe(message);
  });
});

describe('coverRange', () => {
  const spec = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
  const now = Date.UTC(2026, 10, 25, 12, 30, 20);

  it('answers the last 15 minutes from minute buckets, widened to whole minutes', () => {
    expect(coverRange(spec, now - 15 * MIN, now, now)).toEqual({
      sinceMs: Date.UTC(2026, 10, 25, 12, 15),
      untilMs: Date.UTC(2026, 10, 25, 12, 31),
      sizeMs: MIN,
      // The oldest whole minute of the last 48 hours.
      keptSinceMs: Date.UTC(2026, 10, 23, 12, 31),
      asOfMs: now,
    });
  });

  it('answers the last 24 hours from hour buckets (too many minutes)', () => {
    expect(coverRange(spec, now - DAY, now, now)).toEqual({
      sinceMs: Date.UTC(2026, 10, 24, 12),
      untilMs: Date.UTC(2026, 10, 25, 13),
      sizeMs: HOUR,
      keptSinceMs: Date.UTC(2026, 9, 26, 13),
      asOfMs: now,
    });
  });

  it('answers a range older than the minutes are kept from hour buckets', () => {
    const since = now - 3 * DAY;
    expect(coverRange(spec, since, since + 10 * MIN, now)?.sizeMs).toBe(HOUR);
  });

  it('says where the retention begins when a range reaches back past it (answered from the coarsest size)', () => {
    const covered = coverRange(spec, now - 100 * DAY, now, now)!;
    expect(covered.sizeMs).toBe(HOUR);
    expect(covered.sinceMs).toBe(Date.UTC(2026, 7, 17, 12));
    expect(covered.keptSinceMs).toBe(Date.UTC(2026, 9, 26, 13));
    expect(covered.keptSinceMs).toBeGreaterThan(covered.sinceMs);
  });

  it('answers nothing when buckets are off', () => {
    expect(coverRange([], now - MIN, now, now)).toBeUndefined();
  });
});

describe('keptSinceMs', () => {
  const minutes = { sizeMs: MIN, retentionMs: 48 * HOUR };

  it('keeps the buckets that start within the retention: the first whole one inside it', () => {
    const now = Date.UTC(2026, 10, 25, 12, 30, 20);
    expect(keptSinceMs(minutes, now)).toBe(Date.UTC(2026, 10, 23, 12, 31));
  });

  it('keeps a bucket that starts exactly where the retention begins', () => {
    const now = Date.UTC(2026, 10, 25, 12, 30);
    expect(keptSinceMs(minutes, now)).toBe(Date.UTC(2026, 10, 23, 12, 30));
    expect(keptSinceMs(minutes, now + 1)).toBe(Date.UTC(2026, 10, 23, 12, 31));
  });
});

describe('elapsedSeconds', () => {
  const since = Date.UTC(2026, 10, 25, 12, 15);
  const until = Date.UTC(2026, 10, 25, 12, 31);

  it('counts a range that ends in an open bucket up to the time it was answered', () => {
    expect(elapsedSeconds({ sinceMs: since, untilMs: until, asOfMs: Date.UTC(2026, 10, 25, 12, 30, 20) })).toBe(15 * 60 + 20);
  });

  it('counts a range that has passed, or one without a time, whole', () => {
    expect(elapsedSeconds({ sinceMs: since, untilMs: until, asOfMs: until + HOUR })).toBe(16 * 60);
    expect(elapsedSeconds({ sinceMs: since, untilMs: until })).toBe(16 * 60);
  });

  it('never divides by zero or less', () => {
    expect(elapsedSeconds({ sinceMs: since, untilMs: until, asOfMs: since })).toBe(0.001);
  });
});

describe('beforeRange', () => {
  const spec = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
  const now = Date.UTC(2026, 10, 25, 12, 30, 20);
  const cover = (sinceMs: number, untilMs: number) => coverRange(spec, sinceMs, untilMs, now)!;

  it('ends a range asked up to an instant inside a bucket where the next range, asked from that instant, begins', () => {
    // before: -10m..-5m, after: -5m..now; -5m is 12:25:20, inside the minute 12:25.
    const after = cover(now - 5 * MIN, now);
    const before = cover(now - 10 * MIN, now - 5 * MIN);
    expect(before.untilMs).toBe(Date.UTC(2026, 10, 25, 12, 26)); // widened: both hold the minute 12:25
    expect(after.sinceMs).toBe(Date.UTC(2026, 10, 25, 12, 25));
    expect(beforeRange(before, after)).toEqual({ ...before, untilMs: Date.UTC(2026, 10, 25, 12, 25) });
  });

  it('leaves ranges that do not overlap, ranges of different bucket sizes and a range it would empty as they are', () => {
    const after = cover(now - 5 * MIN, now);
    const apart = cover(now - 20 * MIN, now - 15 * MIN);
    expect(beforeRange(apart, after)).toBe(apart);
    const hours = cover(now - 3 * DAY, now - 5 * MIN);
    expect(hours.sizeMs).toBe(HOUR);
    expect(beforeRange(hours, after)).toBe(hours);
    const sameMinute = cover(now - 5 * MIN - 10_000, now - 5 * MIN);
    expect(sameMinute.sinceMs).toBe(after.sinceMs);
    expect(beforeRange(sameMinute, after)).toBe(sameMinute);
  });
});

describe('parseRangeInstant', () => {
  const now = Date.UTC(2026, 10, 25, 12, 0);
  it('reads now, relative times and ISO-8601 instants', () => {
    expect(parseRangeInstant('now', now)).toBe(now);
    expect(parseRangeInstant('-15m', now)).toBe(now - 15 * MIN);
    expect(parseRangeInstant('-2h', now)).toBe(now - 2 * HOUR);
    expect(parseRangeInstant('-7d', now)).toBe(now - 7 * DAY);
    expect(parseRangeInstant('2026-11-25T10:00:00+01:00', now)).toBe(Date.UTC(2026, 10, 25, 9));
  });

  it('names what it received when it cannot read it', () => {
    expect(parseRangeInstant('yesterday', now)).toMatch(/got "yesterday"/);
    expect(parseRangeInstant('2026-11-25', now)).toMatch(/got "2026-11-25"/);
    // Further back than a date can go (and past a safe integer): refused, not an instant that breaks later.
    expect(parseRangeInstant('-999999999d', now)).toMatch(/"-999999999d" reaches before the earliest instant/);
    expect(parseRangeInstant('-99999999999999999999999d', now)).toMatch(/earliest instant/);
  });
});

describe('resolveRange', () => {
  const spec = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
  const now = Date.parse('2026-11-25T12:00:30Z');

  it('covers -15m..now with whole minutes', () => {
    expect(resolveRange(spec, '-15m', undefined, now)).toEqual({
      sinceMs: Date.parse('2026-11-25T11:45:00Z'),
      untilMs: Date.parse('2026-11-25T12:01:00Z'),
      sizeMs: 60_000,
      keptSinceMs: Date.parse('2026-11-23T12:01:00Z'),
      asOfMs: now,
    });
  });

  it('names the end that is wrong', () => {
    expect(resolveRange(spec, 'yesterday', undefined, now)).toMatchObject({
      field: 'since',
      message: expect.stringContaining('"yesterday"'),
    });
    expect(resolveRange(spec, '-1h', 'later', now)).toMatchObject({ field: 'until', message: expect.stringContaining('"later"') });
    // Without until the range ends now: a since after now is what is wrong, not the until never given.
    expect(resolveRange(spec, '2999-01-01T00:00:00Z', undefined, now)).toMatchObject({
      field: 'since',
      message: expect.stringContaining('before now'),
    });
    expect(resolveRange(spec, '-1h', '-2h', now)).toMatchObject({
      field: 'until',
      message: expect.stringContaining('must be after since'),
    });
    expect(resolveRange(spec, '-1h', '-2h', now)).toMatchObject({ field: 'until', message: expect.stringMatching(/^must be after since/) });
  });

  it('refuses every range when buckets are off', () => {
    expect(resolveRange([], '-1h', undefined, now)).toMatchObject({ field: 'range', message: expect.stringContaining('HG_BUCKETS=off') });
  });
});
