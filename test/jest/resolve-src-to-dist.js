'use strict';
// Jest resolver: a test that imports `src/x` (a .ts file) gets the compiled `dist/src/x.js`, so that
// in-process tests run the same build as the integration tier's global setup and the CLI children
// (bin/hubble-graph.js loads dist/). Resolution goes by the resolved file, not by how the import is
// spelled. Tests themselves, bench/ and ui/ are still compiled by ts-jest.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src') + path.sep;
const DIST_SRC = path.join(ROOT, 'dist', 'src') + path.sep;

module.exports = function resolveSrcToDist(request, options) {
  const resolved = options.defaultResolver(request, options);
  if (!resolved.startsWith(SRC) || !resolved.endsWith('.ts') || resolved.endsWith('.d.ts')) return resolved;
  return `${DIST_SRC}${resolved.slice(SRC.length, -'.ts'.length)}.js`;
};
