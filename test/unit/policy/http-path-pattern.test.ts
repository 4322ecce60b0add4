import { HttpPathAccumulator, mergeHttpPathCounts, toHttpMethod, toHttpPathPattern, toHttpPathRegex } from '../../../src/policy';

describe('toHttpPathPattern', () => {
  it.each([
    ['/users/42/orders', '/users/*/orders'],
    ['/v1/charges/3fa85f64-5717-4562-b3fc-2c963f66afa6', '/v1/charges/*'],
    ['/v1/charges/3FA85F6457174562B3FC2C963F66AFA6', '/v1/charges/*'],
    ['/blobs/a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', '/blobs/*'],
    ['/commits/9fceb02', '/commits/*'],
    ['/tokens/dGhpc0lzQW5JZDEyMzQ1Ng', '/tokens/*'],
    ['/ids/01ARZ3NDEKTSV4RRFFQ69G5FAV', '/ids/*'],
    ['/prices/-12.50', '/prices/*'],
    ['/img/0a1b2c3d4e5f6a7b.png', '/img/*.png'],
    ['/img/7.jpg', '/img/*.jpg'],
  ])('collapses the identifier in %s into a wildcard segment (%s)', (path, pattern) => {
    expect(toHttpPathPattern(path)).toBe(pattern);
  });

  it.each([
    ['/api/v1/users', '/api/v1/users'],
    ['/facade/decade/beaded', '/facade/decade/beaded'],
    ['/blog/release-notes-2024-edition', '/blog/release-notes-2024-edition'],
    ['/static/app.js', '/static/app.js'],
    ['/healthz/', '/healthz/'],
  ])('keeps words, versions, slugs and file names in %s', (path, pattern) => {
    expect(toHttpPathPattern(path)).toBe(pattern);
  });

  it('drops the scheme, host, query string and fragment of a full URL as Hubble reports it', () => {
    expect(toHttpPathPattern('http://payments.payments:8443/v1/charges/42?expand=customer#top')).toBe('/v1/charges/*');
    expect(toHttpPathPattern('https://api.example.com')).toBe('/');
    expect(toHttpPathPattern('/search?q=1')).toBe('/search');
    expect(toHttpPathPattern('')).toBe('/');
  });

  it('collapses a segment holding a literal * so that * in a pattern always means one segment', () => {
    expect(toHttpPathPattern('/files/a*b/meta')).toBe('/files/*/meta');
  });
});

describe('toHttpPathRegex', () => {
  function fullMatch(pattern: string, path: string): boolean {
    return new RegExp(`^(?:${toHttpPathRegex(pattern)})$`).test(path);
  }

  it('matches every path the pattern came from, and one segment per wildcard only', () => {
    const paths = ['/users/42/orders', '/users/3fa85f64-5717-4562-b3fc-2c963f66afa6/orders'];
    for (const p of paths) expect(fullMatch(toHttpPathPattern(p), p)).toBe(true);
    expect(fullMatch('/users/*/orders', '/users/42/7/orders')).toBe(false);
    expect(fullMatch('/users/*/orders', '/users//orders')).toBe(false);
  });

  it('escapes the regex characters of the literal parts', () => {
    expect(toHttpPathRegex('/static/app.js')).toBe('/static/app\\.js');
    expect(toHttpPathRegex('/img/*.png')).toBe('/img/[^/]+\\.png');
    expect(fullMatch('/static/app.js', '/static/appXjs')).toBe(false);
    expect(toHttpPathRegex('/a(b)+[c]{2}|$^?')).toBe('/a\\(b\\)\\+\\[c\\]\\{2\\}\\|\\$\\^\\?');
  });
});

describe('HttpPathAccumulator', () => {
  it('counts requests by upper-case method and path pattern, sorted by pattern then method', () => {
    const acc = new HttpPathAccumulator();
    acc.add('get', '/users/1');
    acc.add('GET', 'http://web/users/2?x=1');
    acc.add('POST', '/users', 3);
    acc.add(undefined, '/users/9');
    expect(acc.toCounts()).toEqual({
      paths: [
        { method: 'POST', pattern: '/users', count: 3 },
        { method: 'GET', pattern: '/users/*', count: 2 },
        { method: 'UNKNOWN', pattern: '/users/*', count: 1 },
      ],
      overflowRequests: 0,
    });
  });

  it('keeps at most maxPaths pairs and counts the requests of the others as overflow', () => {
    const acc = new HttpPathAccumulator(2);
    acc.add('GET', '/a');
    acc.add('GET', '/b');
    acc.add('GET', '/c', 5);
    acc.add('PUT', '/a');
    // A kept pair keeps counting after the bound is reached.
    acc.add('GET', '/a', 2);
    expect(acc.size).toBe(2);
    expect(acc.toCounts()).toEqual({
      paths: [
        { method: 'GET', pattern: '/a', count: 3 },
        { method: 'GET', pattern: '/b', count: 1 },
      ],
      overflowRequests: 6,
    });
  });

  it('is null before anything was added and rejects a negative bound', () => {
    expect(new HttpPathAccumulator().toCounts()).toBeNull();
    expect(() => new HttpPathAccumulator(-1)).toThrow('maxPaths must be a non-negative integer, got -1');
  });

  it('merges stored counts with a delta, the stored pairs staying kept and both overflows added', () => {
    const stored = { paths: [{ method: 'GET', pattern: '/a', count: 10 }], overflowRequests: 1 };
    const delta = {
      paths: [
        { method: 'GET', pattern: '/a', count: 2 },
        { method: 'GET', pattern: '/b', count: 4 },
        { method: 'GET', pattern: '/c', count: 7 },
      ],
      overflowRequests: 3,
    };
    expect(mergeHttpPathCounts(stored, delta, 2)).toEqual({
      paths: [
        { method: 'GET', pattern: '/a', count: 12 },
        { method: 'GET', pattern: '/b', count: 4 },
      ],
      overflowRequests: 11,
    });
    expect(mergeHttpPathCounts(null, null)).toBeNull();
  });

  it('names a missing method UNKNOWN', () => {
    expect(toHttpMethod('  ')).toBe('UNKNOWN');
    expect(toHttpMethod('delete')).toBe('DELETE');
  });
});
