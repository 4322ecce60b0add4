'use strict';
// Jest global setup (both tiers): the tests run dist/ (see resolve-src-to-dist.js), so dist/ must be
// the build of the sources on disk. `npm test` builds first and this finds nothing to do; a direct
// `npx jest ...` after an edit builds once here instead of testing an old build.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

function* filesUnder(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(file);
    else yield file;
  }
}

const mtimeMs = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1; // missing
  }
};

/** The first source under `root` whose build output is missing or older than it; undefined when dist/ is current. */
function staleSource(root = ROOT) {
  for (const file of filesUnder(path.join(root, 'src'))) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const out = path.join(root, 'dist', path.relative(root, file)).replace(/\.ts$/, '.js');
    if (mtimeMs(out) < mtimeMs(file)) return file;
  }
  // The map page is one bundle of everything in ui/.
  const bundle = mtimeMs(path.join(root, 'dist', 'ui', 'map.js'));
  for (const file of filesUnder(path.join(root, 'ui'))) {
    if (mtimeMs(file) > bundle) return file;
  }
  return undefined;
}

/** Builds dist/ (`npm run build`) when a source is newer than its output. */
function ensureBuild() {
  const stale = staleSource();
  if (stale === undefined) return;
  process.stderr.write(
    `\ndist/ is older than ${path.relative(ROOT, stale)}: running \`npm run build\` once, so that the tests run the current code\n`,
  );
  try {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch {
    throw new Error('`npm run build` failed (see above): the tests run the build in dist/, fix the build first');
  }
}

module.exports = ensureBuild;
module.exports.ensureBuild = ensureBuild;
module.exports.staleSource = staleSource;
