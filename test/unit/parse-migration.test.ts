import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationError } from '../../src/errors';
import { parseMigration, readMigrations } from '../../src/graph/migrate';

describe('parseMigration', () => {
  it('splits statements on a semicolon at the end of a line and drops // comments', () => {
    const text = '// first\nCREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);\n\nCREATE INDEX b IF NOT EXISTS\n  FOR (n:B) ON (n.y);\n';
    expect(parseMigration(text)).toEqual(['CREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x)', 'CREATE INDEX b IF NOT EXISTS\n  FOR (n:B) ON (n.y)']);
  });
});

describe('readMigrations', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-mig-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('orders the shipped migrations by version and checksums them', () => {
    const files = readMigrations();
    expect(files.map((f) => f.version)).toEqual([...files.map((f) => f.version)].sort((a, b) => a - b));
    expect(files[0].version).toBe(1);
    expect(files[0].checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a file that is not named NNNN-name.cypher', () => {
    fs.writeFileSync(path.join(dir, 'constraints.cypher'), 'RETURN 1;');
    expect(() => readMigrations(dir)).toThrow(MigrationError);
    expect(() => readMigrations(dir)).toThrow(/constraints\.cypher/);
  });
});
