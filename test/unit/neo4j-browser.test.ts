import fs from 'node:fs';
import path from 'node:path';
import { LABEL, REL } from '../../src/graph/model';
import { STYLED_LABELS, buildBrowserStyle } from '../../src/neo4j-browser/browser-style';
import { buildBrowserGuide, parseCypherExamples, toCypherLiteral } from '../../src/neo4j-browser/build-browser-guide';

const README = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');

/** The GraSS rules as selector -> properties (the format is CSS-like: `node.Label { key: value; }`). */
function parseGrass(text: string): Map<string, Record<string, string>> {
  const rules = new Map<string, Record<string, string>>();
  for (const m of text.matchAll(/([\w.]+)\s*\{((?:[^}"]|"[^"]*")*)\}/g)) {
    const props: Record<string, string> = {};
    for (const decl of m[2]!.split(';')) {
      const colon = decl.indexOf(':');
      if (colon > 0) props[decl.slice(0, colon).trim()] = decl.slice(colon + 1).trim();
    }
    rules.set(m[1]!, props);
  }
  return rules;
}

describe('Neo4j Browser style', () => {
  const rules = parseGrass(buildBrowserStyle());

  it('gives every node label of the graph a colour and a caption, so Browser invents none', () => {
    for (const label of [...Object.values(LABEL), 'Migration']) {
      expect(rules.get(`node.${label}`)).toMatchObject({ color: expect.stringMatching(/^#[0-9A-F]{6}$/i), caption: expect.any(String) });
    }
    expect(STYLED_LABELS).toEqual(expect.arrayContaining(Object.values(LABEL)));
  });

  it('tells pods, reserved identities, DNS names and addresses apart by colour and by size', () => {
    const kinds = [LABEL.pod, LABEL.reserved, LABEL.fqdn, LABEL.ip].map((l) => rules.get(`node.${l}`)!);
    expect(new Set(kinds.map((k) => k.color)).size).toBe(4);
    expect(new Set(kinds.map((k) => k.diameter)).size).toBe(4);
    const px = (k: Record<string, string>) => Number.parseInt(k.diameter!, 10);
    expect(px(kinds[0]!)).toBeGreaterThan(px(kinds[3]!)); // pods large, bare addresses small
  });

  it('captions endpoints with their name and CALLS with the port', () => {
    for (const label of [LABEL.pod, LABEL.reserved, LABEL.fqdn, LABEL.ip]) expect(rules.get(`node.${label}`)?.caption).toBe('"{name}"');
    expect(rules.get(`relationship.${REL.calls}`)?.caption).toBe('"{port}"');
  });

  it('holds no comments, which Browser would glue to the next selector', () => {
    expect(buildBrowserStyle()).not.toMatch(/\/\*|\/\//);
  });

  it('lists the general Endpoint rule before the kinds, because later rules win in Browser', () => {
    const order = [...rules.keys()];
    expect(order.indexOf(`node.${LABEL.endpoint}`)).toBeLessThan(order.indexOf(`node.${LABEL.pod}`));
  });
});

describe('Neo4j Browser guide', () => {
  it('pairs each Cypher block with the GraphQL example above it and reads the cypher commands of shell blocks', () => {
    const md = [
      '## Queries',
      '```graphql',
      '# Who calls the api?',
      '{ pod(id: "a") { id } }',
      '```',
      '```cypher',
      "MATCH (n {id: 'a'}) RETURN n",
      '```',
      '## Exploring',
      'Some text.',
      '```cypher',
      'RETURN 1',
      '```',
      '```sh',
      "npx hubble-graph cypher 'MATCH (a) WHERE a.namespace = $ns RETURN a' -p ns=default -p n=3",
      'npx hubble-graph migrate',
      '```',
      '```js',
      "const q = 'MATCH (x) RETURN x';",
      '```',
    ].join('\n');
    expect(parseCypherExamples(md)).toEqual([
      { section: 'Queries', title: 'Who calls the api?', query: "MATCH (n {id: 'a'}) RETURN n", params: {} },
      { section: 'Exploring', title: 'Exploring', query: 'RETURN 1', params: {} },
      { section: 'Exploring', title: 'Exploring', query: 'MATCH (a) WHERE a.namespace = $ns RETURN a', params: { ns: 'default', n: 3 } },
    ]);
  });

  it('holds every Cypher example of the README, each in a block Browser puts into its editor', () => {
    const examples = parseCypherExamples(README);
    const cypherBlocks = README.match(/^```cypher$/gm)?.length ?? 0;
    const cypherCommands = README.match(/npx hubble-graph cypher '/g)?.length ?? 0;
    expect(examples).toHaveLength(cypherBlocks + cypherCommands);
    const html = buildBrowserGuide({
      examples,
      styleUrl: 'http://127.0.0.1:4000/neo4j-browser/style.grass',
      apiUrl: 'http://127.0.0.1:4000/graphql',
    });
    const blocks = [...html.matchAll(/<pre class="pre-scrollable code runnable">([\s\S]*?)<\/pre>/g)].map((m) =>
      m[1]!
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&'),
    );
    for (const ex of examples) expect(blocks).toContain(ex.query);
    expect(blocks).toContain(':style http://127.0.0.1:4000/neo4j-browser/style.grass');
    expect(blocks).toContain(":param ns => 'shop'");
    expect(html.match(/<slide /g)).toHaveLength(examples.length + 1);
    expect(html).toMatch(/<title>[^<]+<\/title>/);
  });

  it('writes parameters as Cypher literals for :param', () => {
    expect(toCypherLiteral("it's")).toBe("'it\\'s'");
    expect(toCypherLiteral([1, 'a', true, null])).toBe("[1, 'a', true, null]");
    expect(toCypherLiteral({ 'a b': 1 })).toBe('{`a b`: 1}');
  });
});
