/** One line of the table printed at the end of a run. */
export interface TableRow {
  figure: string;
  value: string;
  /** The baseline measured in the same run ('-' when there is none). */
  baseline: string;
  ratio: string;
  target: string;
  /** undefined: no target, or not measurable in this run. */
  met: boolean | undefined;
}

const HEADERS = ['figure', 'value', 'baseline (same run)', 'ratio', 'target', 'met?'];

/** A Markdown table (readable in a terminal, pasteable into the README). */
export function formatTable(rows: readonly TableRow[]): string {
  const cells = rows.map((r) => [r.figure, r.value, r.baseline, r.ratio, r.target, r.met === undefined ? '-' : r.met ? 'yes' : 'NO']);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(HEADERS), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
