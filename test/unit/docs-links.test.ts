import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** The project's Markdown: the README and the design notes it points to. */
const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'data/hubble/README.md',
  'test/fixtures/prometheus/README.md',
];

/** The text outside fenced and inline code, where `[text](target)` is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

/** Every relative link of a file that names no file or heading that exists, as "file: target". */
function brokenLinks(file: string, markdown = fs.readFileSync(path.join(ROOT, file), 'utf8')): string[] {
  const text = prose(markdown);
  const broken: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/i.test(target)) continue;
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const linked = pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
    if (!fs.existsSync(path.join(ROOT, linked))) broken.push(`${file}: ${target} (no file ${linked})`);
    else if (anchor !== undefined && linked.endsWith('.md') && !anchorsOf(linked).has(anchor))
      broken.push(`${file}: ${target} (no heading #${anchor} in ${linked})`);
  }
  return broken;
}

describe('the Markdown docs', () => {
  it('link only to files and headings that exist, relative to the file that links', () => {
    expect(DOCS.flatMap((file) => brokenLinks(file))).toEqual([]);
  });

  it('finds a link that points past its own folder', () => {
    const markdown =
      'See [the buckets](docs/time-buckets.md), [the rules](flow-to-graph-rules.md#no-such-heading),\n' +
      '[the owner rule](flow-to-graph-rules.md#several-collectors-owner-attribution) and `[code](nowhere.md)`.\n';
    expect(brokenLinks('docs/probe.md', markdown)).toEqual([
      'docs/probe.md: docs/time-buckets.md (no file docs/docs/time-buckets.md)',
      'docs/probe.md: flow-to-graph-rules.md#no-such-heading (no heading #no-such-heading in docs/flow-to-graph-rules.md)',
    ]);
  });
});
