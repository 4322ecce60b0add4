import {
  CURSOR_PROPERTY,
  parsePrometheusCursor,
  encodePrometheusCursor,
  toCollectorState,
} from '../../../src/prometheus/prometheus-cursor';

describe('prometheus cursor', () => {
  const cursor = { endMs: 1_700_000_000_000, series: new Map([['abc', { value: 12.5, tMs: 1_699_999_999_000 }]]) };

  it('round-trips through JSON', () => {
    expect(parsePrometheusCursor(encodePrometheusCursor(cursor))).toEqual(cursor);
  });

  it('keeps the scrape target of each series, storing every target once', () => {
    const target = 'kubernetes-endpoints\u000010.0.0.1:9965';
    const withTargets = {
      endMs: 5,
      series: new Map([
        ['a', { value: 1, tMs: 2, target }],
        ['b', { value: 3, tMs: 4, target }],
        ['c', { value: 5, tMs: 4 }],
      ]),
    };
    const text = encodePrometheusCursor(withTargets);
    expect(text.split('10.0.0.1:9965')).toHaveLength(2);
    expect(parsePrometheusCursor(text)).toEqual(withTargets);
    expect(() => parsePrometheusCursor('{"v":1,"endMs":1,"targets":[],"series":{"a":[1,2,0]}}')).toThrow('target 0 of 0');
  });

  it('reads no cursor as null', () => {
    expect(parsePrometheusCursor(null)).toBeNull();
    expect(parsePrometheusCursor('')).toBeNull();
  });

  it('refuses a malformed cursor, naming the property', () => {
    expect(() => parsePrometheusCursor('{')).toThrow(CURSOR_PROPERTY);
    expect(() => parsePrometheusCursor('{"v":2,"endMs":1,"series":{}}')).toThrow(CURSOR_PROPERTY);
  });

  it('is stored as a flat map of primitives for the writer', () => {
    const state = toCollectorState(cursor);
    expect(Object.values(state).every((v) => typeof v === 'string' || typeof v === 'number')).toBe(true);
    expect(parsePrometheusCursor(state[CURSOR_PROPERTY] as string)).toEqual(cursor);
  });
});
