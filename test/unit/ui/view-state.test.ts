import { DEFAULT_VIEW, formatViewState, parseViewState } from '../../../ui/src/model/view-state';
import { formatRangeChoice, parseRangeChoice, rangeIsApplied, toApiRange } from '../../../ui/src/model/time-range';

describe('the view in the URL', () => {
  it('round-trips namespaces, level, range, selection, mode, search and every filter', () => {
    const view = {
      namespaces: ['shop', 'infra'],
      level: 'POD' as const,
      range: { kind: 'custom' as const, since: '2026-11-25T10:00:00.000Z', until: '2026-11-25T11:00:00.000Z' },
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
    expect(parseViewState('?level=GALAXY&range=yesterday&port=99999&mode=dance&sel=a,b,c')).toEqual({ ...DEFAULT_VIEW, selection: ['a', 'b'] });
    expect(parseViewState('')).toEqual(DEFAULT_VIEW);
  });

  it('keeps the relative and custom ranges in the URL, and says they are not applied until the API takes ranges', () => {
    for (const value of ['live', 'all', '5m', '15m', '1h', '24h']) expect(formatRangeChoice(parseRangeChoice(value))).toBe(value);
    expect(parseRangeChoice('2026-11-25T10:00:00Z..2026-11-25T11:00:00Z')).toEqual({ kind: 'custom', since: '2026-11-25T10:00:00Z', until: '2026-11-25T11:00:00Z' });
    expect(parseRangeChoice('nonsense..2026')).toEqual({ kind: 'live' });
    expect(rangeIsApplied({ kind: 'live' })).toBe(true);
    expect(rangeIsApplied({ kind: 'all' })).toBe(true);
    expect(rangeIsApplied({ kind: 'last', span: '15m' })).toBe(false);
    expect(toApiRange({ kind: 'last', span: '15m' })).toBeUndefined();
  });
});
