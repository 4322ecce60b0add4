import { CURSOR_PROPERTY, decodeCursor, encodeCursor, toCollectorState } from '../../../src/prometheus/prometheus-cursor';

describe('prometheus cursor', () => {
  const cursor = { endMs: 1_700_000_000_000, series: new Map([['abc', { value: 12.5, tMs: 1_699_999_999_000 }]]) };

  it('round-trips through JSON', () => {
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it('reads no cursor as null', () => {
    expect(decodeCursor(null)).toBeNull();
    expect(decodeCursor('')).toBeNull();
  });

  it('refuses a malformed cursor, naming the property', () => {
    expect(() => decodeCursor('{')).toThrow(CURSOR_PROPERTY);
    expect(() => decodeCursor('{"v":2,"endMs":1,"series":{}}')).toThrow(CURSOR_PROPERTY);
  });

  it('is stored as a flat map of primitives for the writer', () => {
    const state = toCollectorState(cursor);
    expect(Object.values(state).every((v) => typeof v === 'string' || typeof v === 'number')).toBe(true);
    expect(decodeCursor(state[CURSOR_PROPERTY] as string)).toEqual(cursor);
  });
});
