import { InputError } from '../errors';

/**
 * Cypher query parameters from `name=value` pairs (`hubble-graph cypher -p`, the README's Cypher
 * examples): a value is JSON when it parses as JSON, else a string.
 */
export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InputError(`--param expects name=value, got "${pair}"`);
    const raw = pair.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    params[pair.slice(0, eq)] = value;
  }
  return params;
}
