'use strict';
// Starts the project's local Neo4j for the integration tests unless NEO4J_URI names one already.
// It uses its own data folder and ports, so a developer's local graph is never touched.
const path = require('node:path');

module.exports = async function globalSetup() {
  if (process.env.NEO4J_URI) return;
  const { loadConfig } = require('../../dist/src/config.js');
  const { startLocalNeo4j } = require('../../dist/src/graph/local-neo4j.js');
  const { createLogger } = require('../../dist/src/logger.js');
  const env = {
    ...process.env,
    HG_NEO4J_HOME: process.env.HG_TEST_NEO4J_HOME || path.join('.data', 'neo4j-test'),
    HG_NEO4J_BOLT_PORT: process.env.HG_TEST_NEO4J_BOLT_PORT || '17687',
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
  process.env.HG_TEST_LOCAL_NEO4J_PORT = env.HG_NEO4J_BOLT_PORT;
};
