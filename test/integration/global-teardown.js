'use strict';
// Stops the Neo4j that global-setup started. A test Neo4j that was already running (left by an
// interrupted run, or started by hand for this home) is left alone.
module.exports = async function globalTeardown() {
  const home = process.env.HG_TEST_STARTED_NEO4J;
  if (!home) return;
  const { loadConfig } = require('../../dist/src/config.js');
  const { stopLocalNeo4j } = require('../../dist/src/graph/local-neo4j.js');
  const { silentLogger } = require('../../dist/src/logger.js');
  const config = loadConfig({ env: { ...process.env, NEO4J_URI: '', HG_NEO4J_HOME: home } });
  await stopLocalNeo4j(config.local, silentLogger());
};
