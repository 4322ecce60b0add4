'use strict';
// Stops the Neo4j that global-setup started (a server that was already running is left alone,
// unless HG_TEST_KEEP_NEO4J=0 is set).
module.exports = async function globalTeardown() {
  const home = process.env.HG_TEST_STARTED_NEO4J;
  if (!home) return;
  const { loadConfig } = require('../../dist/src/config.js');
  const { stopLocalNeo4j } = require('../../dist/src/graph/local-neo4j.js');
  const { silentLogger } = require('../../dist/src/logger.js');
  const config = loadConfig({ env: { ...process.env, NEO4J_URI: '', HG_NEO4J_HOME: home } });
  await stopLocalNeo4j(config.local, silentLogger());
};
