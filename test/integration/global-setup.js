'use strict';
// Starts the project's local Neo4j for the integration tests unless NEO4J_URI names one already.
// It uses its own data folder and a free port (HG_TEST_NEO4J_BOLT_PORT to choose one), so a
// developer's local graph is never touched and several checkouts can test at the same time.
const net = require('node:net');
const path = require('node:path');
const ensureBuild = require('../jest/ensure-build');

/** A TCP port nobody listens on now (the kernel's choice for port 0). */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

module.exports = async function globalSetup() {
  ensureBuild();
  if (process.env.NEO4J_URI) return;
  // The tests run the build in dist/, as the CLI children do (see test/jest/resolve-src-to-dist.js).
  const { loadConfig } = require('../../dist/src/config.js');
  const { startLocalNeo4j } = require('../../dist/src/graph/local-neo4j.js');
  const { createLogger } = require('../../dist/src/logger.js');
  const env = {
    ...process.env,
    HG_NEO4J_HOME: process.env.HG_TEST_NEO4J_HOME || path.join('.data', 'neo4j-test'),
    // A test Neo4j left running by an interrupted run is found through its pid file and kept on its port.
    HG_NEO4J_BOLT_PORT: process.env.HG_TEST_NEO4J_BOLT_PORT || String(await freePort()),
    HG_NEO4J_HTTP_PORT: '0',
    HG_NEO4J_HEAP: process.env.HG_TEST_NEO4J_HEAP || '2g',
    NEO4J_PASSWORD: 'hubble-graph-test',
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
  };
  const config = loadConfig({ env });
  const status = await startLocalNeo4j(config.local, config.neo4j, createLogger(config.logLevel));
  process.env.NEO4J_URI = status.boltUri;
  process.env.NEO4J_USERNAME = 'neo4j';
  process.env.NEO4J_PASSWORD = 'hubble-graph-test';
  process.env.HG_TEST_STARTED_NEO4J = status.started ? env.HG_NEO4J_HOME : '';
  process.env.HG_TEST_LOCAL_NEO4J_HOME = env.HG_NEO4J_HOME;
  // The port it listens on: the one chosen above, or that of the server found running.
  process.env.HG_TEST_LOCAL_NEO4J_PORT = new URL(status.boltUri).port;
};
