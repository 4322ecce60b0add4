/**
 * DNS names as the graph keeps them, and how many it keeps per edge. Hubble writes names as the
 * resolver saw them (`API.Example.com.`); the graph keeps one spelling, so that an fqdn endpoint's
 * id, an edge's `dnsQueries` and a policy's `matchName` compare equal whatever the case and the
 * trailing dot.
 */

/**
 * Distinct DNS query names kept per edge: by the aggregator per delta, by the writer per stored
 * edge (`r.dnsQueries`), both counted on normalised names. A stored list this long may have lost names.
 */
export const MAX_DNS_NAMES_PER_EDGE = 50;

/** A DNS name as the graph keeps it: lower case, without the trailing dot. */
export function normalizeDnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Adds `name`, normalised, to `names` unless `names` already holds `max` names: two spellings of one
 * name take one place. Returns whether the name is (now) kept.
 */
export function addDnsName(names: Set<string>, name: string, max: number = MAX_DNS_NAMES_PER_EDGE): boolean {
  const kept = normalizeDnsName(name);
  if (names.has(kept)) return true;
  if (names.size >= max) return false;
  names.add(kept);
  return true;
}

/**
 * addDnsName for a list kept at its exact length (a collector holds one per DNS edge, and a Set
 * of one name costs about three times a list of one): `names` with `name` added (a new list), or
 * `names` itself when it already holds the name or `max` names.
 */
export function withDnsName(names: readonly string[] | null, name: string, max: number = MAX_DNS_NAMES_PER_EDGE): readonly string[] {
  const kept = normalizeDnsName(name);
  if (names === null) return [kept];
  if (names.length >= max || names.includes(kept)) return names;
  return names.concat(kept);
}
