#!/usr/bin/env node
'use strict';
// A server by default: graphql-js checks every type test against a second copy of itself unless
// NODE_ENV is production, which costs about a fifth of a large answer's time. Set NODE_ENV to
// development to get that check back.
if (process.env.NODE_ENV === undefined) process.env.NODE_ENV = 'production';
// The compiled CLI lives in dist/ (built by `npm run build`, which `npm ci` runs through `prepare`).
let cli;
try {
  cli = require('../dist/src/cli.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli.js')) {
    process.stderr.write('hubble-graph: not built yet; run `npm run build` (npm ci does it for you)\n');
    process.exit(1);
  }
  throw err;
}
cli.main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`hubble-graph: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
