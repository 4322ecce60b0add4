import { GraphQLError } from 'graphql';
import { checkFirst, checkHops, checkInstant, checkNamespaces, decodeCursor, encodeCursor } from '../../../src/api/validate-args';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as GraphQLError).extensions.code, message: (err as GraphQLError).message };
  }
  return undefined;
};

describe('argument checks', () => {
  it('round-trips cursors and refuses forged ones, naming the argument', () => {
    expect(decodeCursor(encodeCursor(41), 'after')).toBe(42);
    expect(decodeCursor(undefined, 'after')).toBe(0);
    expect(codeOf(() => decodeCursor('bm9wZQ', 'after'))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'after: not a cursor returned by this API',
    });
  });

  it('caps first and hops with messages that name the setting', () => {
    expect(checkFirst(undefined, 'first', 50)).toBe(50);
    expect(checkFirst(10, 'first', 50)).toBe(10);
    expect(codeOf(() => checkFirst(51, 'first', 50))?.message).toBe('first: is 51, above the maximum page size 50 (HG_API_MAX_PAGE_SIZE)');
    expect(checkHops(undefined, 'maxHops', 4, 6)).toBe(4);
    expect(codeOf(() => checkHops(11, 'maxHops', 10, 6))?.message).toBe('maxHops: is 11, above the cap 10 (HG_API_MAX_HOPS)');
    expect(codeOf(() => checkHops(0, 'depth', 10, 3))?.code).toBe('BAD_USER_INPUT');
  });

  it('normalizes instants to UTC and refuses other text', () => {
    expect(checkInstant('2026-01-31T13:00:00+01:00', 'since')).toBe('2026-01-31T12:00:00.000Z');
    expect(codeOf(() => checkInstant('yesterday', 'filter.activeSince'))?.message).toMatch(/^filter\.activeSince: /);
  });

  it('accepts Kubernetes namespace names only', () => {
    expect(checkNamespaces(['default', 'kube-system'], 'namespaces')).toEqual(['default', 'kube-system']);
    expect(codeOf(() => checkNamespaces(['ok', "x') DETACH DELETE n //"], 'filter.namespaces'))?.message).toMatch(
      /^filter\.namespaces\[1\]: /,
    );
  });
});
