import { LabelSelectorError, matchesLabelSelector, parseLabelSelector } from '../../../src/api/label-selector';

describe('parseLabelSelector', () => {
  it('parses equality, inequality, set and existence requirements', () => {
    expect(parseLabelSelector('app=web, tier!=db,env in (a, b),zone notin (x),team,!legacy,k==v')).toEqual([
      { key: 'app', op: 'in', values: ['web'] },
      { key: 'tier', op: 'notin', values: ['db'] },
      { key: 'env', op: 'in', values: ['a', 'b'] },
      { key: 'zone', op: 'notin', values: ['x'] },
      { key: 'team', op: 'exists', values: [] },
      { key: 'legacy', op: 'notexists', values: [] },
      { key: 'k', op: 'in', values: ['v'] },
    ]);
  });

  it('accepts prefixed keys and empty values, and an empty selector', () => {
    expect(parseLabelSelector('app.kubernetes.io/name=web,flag=')).toEqual([
      { key: 'app.kubernetes.io/name', op: 'in', values: ['web'] },
      { key: 'flag', op: 'in', values: [''] },
    ]);
    expect(parseLabelSelector('  ')).toEqual([]);
  });

  it.each([
    ['env in (a,b', /unbalanced "\("/],
    ['env in a,b)', /unbalanced "\)"/],
    ['app=web,,tier=db', /requirement 2 is empty/],
    ['a$b=c', /not a valid label key/],
    ['a b=c', /expected key=value/],
    ["app=we'b", /not a valid label value/],
    ['env in ()', /needs at least one value/],
    ['app=web) DETACH DELETE n //', /./],
    ['app >= 3', /./],
  ])('rejects %s with a message saying where', (text, message) => {
    expect(() => parseLabelSelector(text)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(text)).toThrow(message);
  });
});

describe('matchesLabelSelector', () => {
  const labels = ['app=web', 'tier=frontend', 'reserved:world'];
  it.each([
    ['app=web', true],
    ['app=api', false],
    ['app!=api', true],
    ['missing!=x', true],
    ['tier in (frontend,backend)', true],
    ['tier notin (frontend)', false],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app=web,tier=backend', false],
  ])('%s -> %s', (selector, expected) => {
    expect(matchesLabelSelector(labels, parseLabelSelector(selector))).toBe(expected);
  });
});
