import { TokenSet, bearerToken } from '../../../src/api/auth';

describe('bearer tokens', () => {
  it('reads the token of a Bearer authorization value', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('accepts only known tokens, and everything when none are configured', () => {
    const set = new TokenSet(['t1', 't2']);
    expect(set.accepts('Bearer t2')).toBe(true);
    expect(set.accepts('Bearer t3')).toBe(false);
    expect(set.accepts(undefined)).toBe(false);
    expect(new TokenSet([]).accepts(undefined)).toBe(true);
  });
});
