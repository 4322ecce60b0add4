import { parseParams } from '../graph/cypher-params';

/** One Cypher example of the README, as the guide shows it. */
export interface CypherExample {
  /** The README section it is in (its `##`/`###` heading). */
  readonly section: string;
  /** What it answers: the comment of the GraphQL example it sits beside, else the section. */
  readonly title: string;
  readonly query: string;
  /** Parameters the README passes with `-p name=value` (values as the `cypher` command reads them). */
  readonly params: Readonly<Record<string, unknown>>;
}

const FENCE = /^```(\w*)\s*$/;
const HEADING = /^#{2,4}\s+(.*)$/;
// `npx hubble-graph cypher 'QUERY' -p k=v ...` inside a shell block (the README's single quotes hold the query).
const CYPHER_COMMAND = /npx hubble-graph cypher '([^']+)'((?:\s+(?:-p|--param)\s+\S+)*)/;

/**
 * The Cypher examples of a README (pure): every ```cypher block, titled by the GraphQL example
 * right above it when there is one, and every `npx hubble-graph cypher '...'` command of the shell
 * blocks, with its `-p` parameters.
 */
export function parseCypherExamples(markdown: string): CypherExample[] {
  const examples: CypherExample[] = [];
  let section = '';
  let fence: { lang: string; lines: string[] } | undefined;
  let previousGraphqlComment: string | undefined;
  let sinceLastBlock: string[] = [];
  for (const line of markdown.split('\n')) {
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (!fenceMatch) {
        fence.lines.push(line);
        continue;
      }
      const body = fence.lines.join('\n').trim();
      if (fence.lang === 'cypher') {
        const paired = sinceLastBlock.every((l) => l.trim() === '') ? previousGraphqlComment : undefined;
        examples.push({ section, title: paired ?? section, query: body, params: {} });
        previousGraphqlComment = undefined;
      } else if (fence.lang === 'graphql') {
        const comment = /^#\s*(.+)$/.exec(fence.lines.find((l) => l.trim() !== '') ?? '');
        previousGraphqlComment = comment?.[1]?.trim();
      } else {
        previousGraphqlComment = undefined;
        if (fence.lang === 'sh') {
          for (const shellLine of fence.lines) {
            const [, query, options] = CYPHER_COMMAND.exec(shellLine) ?? [];
            if (query === undefined || options === undefined) continue;
            const pairs = [...options.matchAll(/(?:-p|--param)\s+(\S+)/g)].flatMap(([, pair]) => (pair === undefined ? [] : [pair]));
            examples.push({ section, title: section, query, params: parseParams(pairs) });
          }
        }
      }
      fence = undefined;
      sinceLastBlock = [];
      continue;
    }
    if (fenceMatch) {
      fence = { lang: fenceMatch[1] ?? '', lines: [] };
      continue;
    }
    const [, headingText] = HEADING.exec(line) ?? [];
    if (headingText !== undefined) {
      section = headingText.trim();
      previousGraphqlComment = undefined;
    }
    sinceLastBlock.push(line);
  }
  return examples;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A value as a Cypher literal, for Browser's `:param name => value`. */
export function toCypherLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(toCypherLiteral).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `\`${k.replace(/`/g, '``')}\`: ${toCypherLiteral(v)}`)
    .join(', ')}}`;
}

/** A block Browser puts into its editor when clicked (`pre.runnable`). */
const runnable = (text: string): string => `<pre class="pre-scrollable code runnable">${escapeHtml(text)}</pre>`;

export interface BrowserGuideOptions {
  readonly examples: readonly CypherExample[];
  /** Absolute URL of the style (`:style <url>`). */
  readonly styleUrl: string;
  /** Absolute URL of the GraphQL API, named beside the Cypher. */
  readonly apiUrl: string;
}

/**
 * A Neo4j Browser guide (HTML with one `<slide>` per page, as `:guide <url>` and `:play <url>` read
 * it) of the README's Cypher examples: a first page with the legend and the style command, then one
 * page per example with its parameters and query as blocks that go into the editor on a click.
 */
export function buildBrowserGuide(options: BrowserGuideOptions): string {
  const legend = [
    ['#4C8EDA', 'Pod', 'a Kubernetes pod, id <code>namespace/pod</code>'],
    ['#F79767', 'Reserved', 'a Cilium reserved identity: <code>reserved:world</code>, <code>reserved:host</code>, ...'],
    ['#8DCC93', 'Fqdn', 'a DNS name of world traffic, <code>fqdn:api.example.com</code>'],
    ['#C990C0', 'Ip', 'an address with neither identity nor name'],
  ]
    .map(([color, label, what]) => `<li><span style="color:${color}">&#9679;</span> <b>:${label}</b> &mdash; ${what}</li>`)
    .join('\n');
  const slides = [
    `<slide class="row-fluid">
<div class="col-sm-12">
<h3>hubble-graph: who talks to whom</h3>
<p class="lead">Every traffic endpoint is an <code>:Endpoint</code>; traffic is <code>(client)-[:CALLS]-&gt;(server)</code>, one
relationship per destination port, protocol and verdict, with counts, HTTP status codes and latency.</p>
<ul>
${legend}
</ul>
<p>Load the style that draws them so (click, then run):</p>
${runnable(`:style ${options.styleUrl}`)}
<p>The next pages are the README's Cypher examples; click one to put it into the editor. The same
questions in GraphQL: <a href="${escapeHtml(options.apiUrl)}" target="_blank" rel="noopener">${escapeHtml(options.apiUrl)}</a>.</p>
</div>
</slide>`,
    ...options.examples.map(
      (ex, i) => `<slide class="row-fluid">
<div class="col-sm-12">
<h3>${i + 1}. ${escapeHtml(ex.title)}</h3>
${ex.title !== ex.section ? `<p>From the README's section <i>${escapeHtml(ex.section)}</i>.</p>\n` : ''}${Object.entries(ex.params)
        .map(([name, value]) => `<p>First set the parameter:</p>\n${runnable(`:param ${name} => ${toCypherLiteral(value)}`)}\n`)
        .join('')}${runnable(ex.query)}
</div>
</slide>`,
    ),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hubble-graph: the README's Cypher examples</title>
</head>
<body>
<article class="guide">
<carousel class="deck container-fluid">
${slides.join('\n')}
</carousel>
</article>
</body>
</html>
`;
}
