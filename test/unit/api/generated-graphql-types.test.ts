import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The generator runs as `npm run codegen` does, in Node itself: its plugins load ES modules that
// jest's module system cannot.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const check = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'codegen.js'), '--check', ...args], { cwd: ROOT, encoding: 'utf8' });

describe('the types generated from schema.graphql (npm run codegen)', () => {
  it('are committed exactly as schema.graphql generates them', () => {
    const run = check();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('are reported stale, naming the file and the command, when the schema gains a field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-codegen-'));
    try {
      const schema = fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8');
      const edited = schema.replace('  health: String!', '  health: String!\n  uptimeSeconds: Int!');
      expect(edited).not.toBe(schema);
      fs.writeFileSync(path.join(dir, 'schema.graphql'), edited);
      const run = check('--schema', path.join(dir, 'schema.graphql'));
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/src\/api\/generated\/graphql-types\.ts is not what schema\.graphql generates: run `npm run codegen`/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
