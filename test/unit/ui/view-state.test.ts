import { DEFAULT_VIEW, formatViewState, parseViewState } from '../../../ui/src/model/view-state';
import {
  describeCoveredRange,
  formatCompareChoice,
  formatRangeChoice,
  parseCompareChoice,
  parseRangeChoice,
  toActivityRange,
  toApiRange,
  toDiffRanges,
} from '../../../ui/src/model/time-range';

describe('the view in the URL', () => {
  it('round-trips namespaces, level, range, selection, mode, search and every filter', () => {
    const view = {
      namespaces: ['shop', 'infra'],
      level: 'POD' as const,
      range: { kind: 'custom' as const, since: '2026-11-25T10:00:00.000Z', until: '2026-11-25T11:00:00.000Z' },
      compare: { kind: 'shift' as const, by: '24h' as const },
      selection: ['shop/web-1', 'shop/db-0'],
      edge: null,
      mode: 'path' as const,
      search: 'web',
      filters: { verdicts: ['DROPPED'], protocol: 'TCP', port: 5432, hideReserved: true, hideWorld: true, onlyDropped: true },
      topN: 5000,
    };
    const query = formatViewState(view);
    expect(query).toContain('ns=shop,infra');
    expect(query).toContain('sel=shop/web-1,shop/db-0');
    expect(parseViewState(`?${query}`)).toEqual(view);
  });

  it('falls back to the defaults for unknown or malformed values', () => {
    expect(parseViewState('?level=GALAXY&range=yesterday&port=99999&mode=dance&sel=a,b,c')).toEqual({
      ...DEFAULT_VIEW,
      selection: ['a', 'b'],
    });
    expect(parseViewState('')).toEqual(DEFAULT_VIEW);
  });

  it('keeps the relative and custom ranges in the URL and turns them into the API range; live and all time send none', () => {
    for (const value of ['live', 'all', '5m', '15m', '1h', '24h']) expect(formatRangeChoice(parseRangeChoice(value))).toBe(value);
    expect(parseRangeChoice('2026-11-25T10:00:00Z..2026-11-25T11:00:00Z')).toEqual({
      kind: 'custom',
      since: '2026-11-25T10:00:00Z',
      until: '2026-11-25T11:00:00Z',
    });
    expect(parseRangeChoice('nonsense..2026')).toEqual({ kind: 'live' });
    expect(parseRangeChoice('2026-11-25T11:00:00Z..2026-11-25T10:00:00Z')).toEqual({ kind: 'live' });
    expect(toApiRange({ kind: 'live' })).toBeUndefined();
    expect(toApiRange({ kind: 'all' })).toBeUndefined();
    expect(toApiRange({ kind: 'last', span: '5m' })).toEqual({ since: '-5m', until: 'now' });
    expect(toApiRange({ kind: 'last', span: '24h' })).toEqual({ since: '-1440m', until: 'now' });
    expect(toApiRange({ kind: 'custom', since: '2026-11-25T10:00:00Z', until: '2026-11-25T11:00:00Z' })).toEqual({
      since: '2026-11-25T10:00:00Z',
      until: '2026-11-25T11:00:00Z',
    });
    // The sparkline needs a range: all-time views show the last hour.
    expect(toActivityRange({ kind: 'live' })).toEqual({ since: '-60m', until: 'now' });
    expect(toActivityRange({ kind: 'last', span: '15m' })).toEqual({ since: '-15m', until: 'now' });
  });

  it('compares the shown span with the previous one or the same span earlier; live and all time compare their last hour', () => {
    expect(toDiffRanges({ kind: 'last', span: '15m' }, { kind: 'shift', by: 'previous' })).toEqual({
      before: { since: '-30m', until: '-15m' },
      after: { since: '-15m', until: 'now' },
    });
    expect(toDiffRanges({ kind: 'last', span: '1h' }, { kind: 'shift', by: '24h' })).toEqual({
      before: { since: '-1500m', until: '-1440m' },
      after: { since: '-60m', until: 'now' },
    });
    expect(toDiffRanges({ kind: 'live' }, { kind: 'shift', by: 'previous' })).toEqual({
      before: { since: '-120m', until: '-60m' },
      after: { since: '-60m', until: 'now' },
    });
    const custom = { kind: 'custom' as const, since: '2026-11-25T10:00:00.000Z', until: '2026-11-25T10:30:00.000Z' };
    expect(toDiffRanges(custom, { kind: 'shift', by: 'previous' }).before).toEqual({
      since: '2026-11-25T09:30:00.000Z',
      until: '2026-11-25T10:00:00.000Z',
    });
    expect(toDiffRanges(custom, { kind: 'shift', by: '7d' }).before).toEqual({
      since: '2026-11-18T10:00:00.000Z',
      until: '2026-11-18T10:30:00.000Z',
    });
    const before = { kind: 'custom' as const, since: '2026-11-24T10:00:00Z', until: '2026-11-24T12:00:00Z' };
    expect(toDiffRanges(custom, before)).toEqual({
      before: { since: before.since, until: before.until },
      after: { since: custom.since, until: custom.until },
    });
    for (const v of ['previous', '1h', '24h', '7d', '2026-11-24T10:00:00Z..2026-11-24T12:00:00Z'])
      expect(formatCompareChoice(parseCompareChoice(v)!)).toBe(v);
    expect(parseCompareChoice('yesterday')).toBeNull();
    expect(parseCompareChoice(null)).toBeNull();
  });

  it('says which range the API covered, in UTC with the bucket size', () => {
    expect(
      describeCoveredRange({ since: '2026-11-25T10:05:00.000Z', until: '2026-11-25T10:20:00.000Z', bucketSeconds: 60, seconds: 900 }),
    ).toBe('2026-11-25 10:05–10:20 UTC (1 min buckets)');
    expect(
      describeCoveredRange({ since: '2026-11-24T11:00:00.000Z', until: '2026-11-25T11:00:00.000Z', bucketSeconds: 3600, seconds: 86400 }),
    ).toBe('2026-11-24 11:00 – 2026-11-25 11:00 UTC (1 h buckets)');
  });

  it('says when the covered range reaches back past the retention of its buckets, and not otherwise', () => {
    const range = { since: '2026-08-17T12:00:00.000Z', until: '2026-11-25T13:00:00.000Z', bucketSeconds: 3600, seconds: 8_643_600 };
    expect(describeCoveredRange({ ...range, keptSince: '2026-10-26T13:00:00.000Z' })).toBe(
      '2026-08-17 12:00 – 2026-11-25 13:00 UTC (1 h buckets; kept only since 2026-10-26 13:00 UTC, older history has expired)',
    );
    expect(describeCoveredRange({ ...range, keptSince: '2026-08-17T12:00:00.000Z' })).toBe(
      '2026-08-17 12:00 – 2026-11-25 13:00 UTC (1 h buckets)',
    );
  });
});
