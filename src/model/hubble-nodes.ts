/** The Hubble nodes of `theirs` that are also in `mine`, sorted: nodes whose flows two collectors both read. */
export function nodesInCommon(mine: ReadonlySet<string>, theirs: readonly string[]): string[] {
  return theirs.filter((n) => mine.has(n)).sort();
}
