import { TokenSet, bearerToken, parseTokensFile } from '../../../src/api/auth';

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

  it('refuses everyone, rather than letting everyone in, when a required token set is emptied', () => {
    const emptied = new TokenSet([], true);
    expect(emptied.enabled).toBe(true);
    expect(emptied.accepts('Bearer anything')).toBe(false);
    expect(emptied.accepts(undefined)).toBe(false);
  });

  it('reads one token per line of a tokens file, skipping blank lines and comments', () => {
    expect(parseTokensFile('# API tokens\n t1 \r\n\n#t2\nt3\n')).toEqual(['t1', 't3']);
  });
});
