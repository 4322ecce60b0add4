import fs from 'node:fs';
import path from 'node:path';

// A statement that looks CALLS relationships up by key for each row of a list must not UNWIND the
// list and MATCH `-[r:CALLS {key: row.key}]-`: planned while the key index's statistics say it is
// empty (a new graph), Neo4j plans that as a scan of the whole index per row and keeps the plan,
// which made a flush's latency statement take 18-30 s for 5,000 rows (CALLS_OF_KEYED_ROWS in
// src/graph/cypher/ingest-queries.ts). `WHERE r.key IN $keys` is planned as a seek per key.

const SRC = path.join(__dirname, '../../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

// UNWIND, then (with no backtick between, so within one template literal) a MATCH of CALLS by the key
// of something other than a parameter.
const UNWOUND_KEY_LOOKUP = /\bUNWIND\b[^`]*?MATCH\s*\([^)]*\)\s*-\s*\[\s*\w*\s*:\s*(?:\$\{REL\.calls\}|CALLS)\s*\{\s*key\s*:(?!\s*\$)/g;

/** Comment lines (which may quote the forbidden form) left out. */
function unwoundKeyLookups(text: string): string[] {
  const code = text
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join('\n');
  return [...code.matchAll(UNWOUND_KEY_LOOKUP)].map((m) => m[0].replace(/\s+/g, ' '));
}

describe('CALLS looked up by key for a list of rows', () => {
  it('recognises the pattern it forbids (the form the latency statement had)', () => {
    const before = 'const Q = `\nUNWIND $rows AS row\nMATCH ()-[r:${REL.calls} {key: row.key}]->()\nSET r.x = row.x`;';
    expect(unwoundKeyLookups(before)).toHaveLength(1);
    expect(unwoundKeyLookups('const Q = `\nUNWIND $keys AS k\nMATCH (a)-[r:CALLS {key: k}]->(b)`;')).toHaveLength(1);
    expect(unwoundKeyLookups('const Q = `\nMATCH ()-[r:${REL.calls}]->() WHERE r.key IN $keys\nWITH r, $rows[r.key] AS row`;')).toEqual([]);
    // A single key from a parameter, and a MERGE between matched ends, are not lookups of a list.
    expect(unwoundKeyLookups('const Q = `\nUNWIND $ids AS id\nMATCH ()-[r:${REL.calls} {key: $key}]->()`;')).toEqual([]);
    expect(unwoundKeyLookups('const Q = `\nUNWIND $rows AS row\nMERGE (s)-[r:${REL.calls} {key: row.key}]->(d)`;')).toEqual([]);
  });

  it('no statement in src/ unwinds a list and matches CALLS by each row key', () => {
    const offenders = sourceFiles(SRC).flatMap((file) =>
      unwoundKeyLookups(fs.readFileSync(file, 'utf8')).map((t) => `${path.relative(SRC, file)}: ${t}`),
    );
    expect(offenders).toEqual([]);
  });
});
