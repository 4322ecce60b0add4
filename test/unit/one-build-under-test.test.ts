import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { staleSource } from '../jest/ensure-build';

const ROOT = path.resolve(__dirname, '..', '..');

describe('one build under test', () => {
  it('resolves an import of src/ to its compiled file in dist/src/, the code bin/ runs', () => {
    expect(require.resolve('../../src/config')).toBe(path.join(ROOT, 'dist', 'src', 'config.js'));
    expect(require.resolve('../../src/graph/migrate')).toBe(path.join(ROOT, 'dist', 'src', 'graph', 'migrate.js'));
  });

  it('leaves test helpers to ts-jest', () => {
    expect(require.resolve('../helpers/ingest-rows')).toBe(path.join(ROOT, 'test', 'helpers', 'ingest-rows.ts'));
  });

  describe('staleSource', () => {
    let root: string;
    const write = (file: string, ageMs: number) => {
      const full = path.join(root, file);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, '');
      const t = new Date(Date.now() - ageMs);
      fs.utimesSync(full, t, t);
    };
    beforeEach(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-build-'));
      write('src/graph/a.ts', 60_000);
      write('src/types.d.ts', 0); // declarations compile to nothing
      write('dist/src/graph/a.js', 30_000);
      write('ui/src/main.ts', 60_000);
      write('dist/ui/map.js', 30_000);
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it('finds nothing to do when every output is newer than its source', () => {
      expect(staleSource(root)).toBeUndefined();
    });

    it('names a source edited after the build', () => {
      write('src/graph/a.ts', 0);
      expect(staleSource(root)).toBe(path.join(root, 'src', 'graph', 'a.ts'));
    });

    it('names a new source that has no output yet', () => {
      write('src/b.ts', 60_000);
      expect(staleSource(root)).toBe(path.join(root, 'src', 'b.ts'));
    });

    it('names a map-page file edited after the bundle', () => {
      write('ui/map.css', 0);
      expect(staleSource(root)).toBe(path.join(root, 'ui', 'map.css'));
    });
  });
});
