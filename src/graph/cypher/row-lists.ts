/**
 * Rows sent to Neo4j as lists of values instead of maps. As a map, the driver packs and Neo4j unpacks
 * every key's name again for every row; as a list, only the values go over Bolt, and the statement
 * makes each list a map again in its first `WITH` (`listAsMap`), so that the rest of it reads
 * `row.field` as before. A scratch probe of UPSERT_ACTIVITY (10k calls x 2 buckets, updated;
 * 2026-12-07, medians of six alternating rounds) took 1,348 ms with maps against 1,110 ms with lists,
 * the client's CPU 246 against 179 ms and Neo4j's 1,680 against 1,410 ms. The call and roll-up
 * rows' probes, and what it came to end to end: docs/time-buckets.md, "Bucket rows as lists".
 */

/** The Cypher map `{f0: list[0], f1: list[1], …}` of `fields`, in their order. */
export function listAsMap(fields: readonly string[], list: string): string {
  return `{${fields.map((f, i) => `${f}: ${list}[${i}]`).join(', ')}}`;
}

/**
 * `true` when `Fields` names every key of `Row`, else `never`: a constant of this type next to a
 * field list makes a field added to the row and missing from the list fail to compile.
 */
export type ListsEveryField<Row, Fields extends readonly PropertyKey[]> = [Exclude<keyof Row, Fields[number]>] extends [never]
  ? true
  : never;
