import { formatFlowTime, isFlowTimeInRange, parseFlowTimeMs } from '../../../src/flows/flow-time';

describe('parseFlowTimeMs', () => {
  it('reads RFC 3339 times with nanoseconds as epoch milliseconds', () => {
    expect(parseFlowTimeMs('2021-10-04T14:28:38.735173594Z')).toBe(Date.UTC(2021, 9, 4, 14, 28, 38, 735));
    expect(parseFlowTimeMs('2021-10-04T14:28:38.7Z')).toBe(Date.UTC(2021, 9, 4, 14, 28, 38, 700));
    expect(parseFlowTimeMs('2021-10-04T14:28:38Z')).toBe(Date.UTC(2021, 9, 4, 14, 28, 38));
  });

  it('is right across second boundaries (the calendar part is cached per second)', () => {
    expect(parseFlowTimeMs('2021-10-04T14:28:38.999Z')).toBe(Date.UTC(2021, 9, 4, 14, 28, 38, 999));
    expect(parseFlowTimeMs('2021-10-04T14:28:39.001Z')).toBe(Date.UTC(2021, 9, 4, 14, 28, 39, 1));
    expect(parseFlowTimeMs('2021-10-04T14:28:38.5Z')).toBe(Date.UTC(2021, 9, 4, 14, 28, 38, 500));
  });

  it('handles offsets and rejects what does not parse', () => {
    expect(parseFlowTimeMs('2021-10-04T16:28:38.5+02:00')).toBe(Date.UTC(2021, 9, 4, 14, 28, 38, 500));
    expect(parseFlowTimeMs(undefined)).toBeUndefined();
    expect(parseFlowTimeMs('yesterday at noon, roughly')).toBeUndefined();
    expect(parseFlowTimeMs('2021-10-04T14:28:38.xZ')).toBeUndefined();
  });

  it('formats times as Hubble prints them', () => {
    expect(formatFlowTime(Date.UTC(2026, 0, 1, 0, 0, 0, 123), 456789)).toBe('2026-01-01T00:00:00.123456789Z');
  });
});

describe('isFlowTimeInRange', () => {
  const now = Date.UTC(2026, 5, 1);
  const range = { maxAheadMs: 5 * 60_000, maxAgeMs: 0 };

  it('accepts the past and a little of the future, up to the tolerance', () => {
    expect(isFlowTimeInRange(Date.UTC(2021, 9, 4), now, range)).toBe(true);
    expect(isFlowTimeInRange(now + 5 * 60_000, now, range)).toBe(true);
  });

  it('refuses a flow dated an hour ahead, before 2000, and years -1 and +275760', () => {
    expect(isFlowTimeInRange(now + 3_600_000, now, range)).toBe(false);
    expect(isFlowTimeInRange(Date.UTC(1999, 11, 31, 23, 59, 59), now, range)).toBe(false);
    expect(isFlowTimeInRange(parseFlowTimeMs('-000001-01-01T00:00:00Z')!, now, range)).toBe(false);
    expect(isFlowTimeInRange(parseFlowTimeMs('+275760-09-13T00:00:00Z')!, now, range)).toBe(false);
  });

  it('refuses flows older than the maximum age when one is set', () => {
    expect(isFlowTimeInRange(now - 2 * 86_400_000, now, { ...range, maxAgeMs: 86_400_000 })).toBe(false);
    expect(isFlowTimeInRange(now - 3_600_000, now, { ...range, maxAgeMs: 86_400_000 })).toBe(true);
  });
});
