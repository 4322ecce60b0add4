/**
 * The layers, checked by `npm run layers` (part of `npm test`); docs/architecture.md explains them.
 * Pure core: src/model, src/flows, src/generator, src/policy, ui/src/model (no I/O: no Node I/O modules, no drivers, no network).
 */
const PURE = '^(src/model|src/flows|src/generator|src/policy|ui/src/model)/';
// node:net is left out: the core uses its pure address helpers (isIP, BlockList), never a socket.
// Packages are matched by their resolved path (node_modules/<name>/...).
const IO_MODULES =
  '^(node:)?(fs|http|https|http2|child_process|dgram|tls|worker_threads|readline)$|(^|/)node_modules/(neo4j-driver|@grpc/grpc-js|ws|graphql-ws|pino|prom-client)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two modules one; break it with a type in the lower layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pure-core-no-io',
      severity: 'error',
      comment: 'The pure core computes; reading and writing belong to the adapters (hubble, graph, api, collector, commands).',
      from: { path: PURE },
      to: { dependencyTypes: ['core', 'npm'], path: IO_MODULES },
    },
    {
      name: 'pure-core-no-adapters',
      severity: 'error',
      comment: 'The pure core imports no adapter.',
      from: { path: PURE },
      to: { path: '^src/(api|collector|commands|hubble|prometheus|demo|neo4j-browser)/' },
    },
    {
      name: 'pure-core-own-model',
      severity: 'error',
      comment:
        'The pure core takes ids, row types, sketches and name rules from src/model, never from storage (src/graph imports src/model too).',
      from: { path: PURE },
      to: { path: '^src/graph/' },
    },
    {
      name: 'model-at-the-bottom',
      severity: 'error',
      comment: 'src/model is what every layer shares: it imports nothing of the project outside itself.',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'rules-not-generator',
      severity: 'error',
      comment: 'The flow rules never depend on the generator that tests them.',
      from: { path: '^src/flows/' },
      to: { path: '^src/generator/' },
    },
    {
      name: 'api-core-transport-free',
      severity: 'error',
      comment:
        'The API core (schema, resolvers, rules, context, errors, metrics, auth) knows no transport: HTTP and WebSocket live in their adapters, src/api/http and src/api/ws, composed by start-api-server.ts.',
      from: { path: '^src/api/', pathNot: '^src/api/(http/|ws/|start-api-server\\.ts$)' },
      to: { dependencyTypes: ['core', 'npm'], path: '^(node:)?(http|https|http2|net)$|(^|/)node_modules/(ws|graphql-ws|@apollo/server)/' },
    },
    {
      name: 'api-not-collector',
      severity: 'error',
      comment: 'The API reads the graph; it never imports the collector.',
      from: { path: '^src/api/' },
      to: { path: '^src/(collector|hubble|prometheus)/' },
    },
    {
      name: 'sources-not-above',
      severity: 'error',
      comment: 'Sources yield events and rows; they do not know the collector or the API.',
      from: { path: '^src/(hubble|prometheus)/' },
      to: { path: '^src/(api|collector|commands)/' },
    },
    {
      name: 'collector-not-api',
      severity: 'error',
      comment: 'The collector writes; the API reads.',
      from: { path: '^src/collector/' },
      to: { path: '^src/(api|commands)/' },
    },
    {
      name: 'graph-not-above',
      severity: 'error',
      comment: 'Storage does not know who calls it.',
      from: { path: '^src/graph/' },
      to: { path: '^src/(api|collector|commands|demo)/' },
    },
    {
      name: 'neo4j-browser-not-above',
      severity: 'error',
      comment: 'The Neo4j Browser guide and style are served by the API; they know neither the collector nor the commands.',
      from: { path: '^src/neo4j-browser/' },
      to: { path: '^src/(collector|commands|hubble|prometheus|demo)/' },
    },
    {
      name: 'ui-only-its-own',
      severity: 'error',
      comment: 'The map page is built on the GraphQL API alone.',
      from: { path: '^ui/src/' },
      to: { path: '^src/' },
    },
    {
      name: 'src-not-tests',
      severity: 'error',
      comment: 'Shipped code never imports tests or the bench.',
      from: { path: '^(src|ui/src)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // node_modules is not followed, but it is not excluded either: excluding it would drop every
    // import of a package, and the rules on packages (ws, neo4j-driver, ...) would never see one.
    exclude: { path: '^(dist|dist-bench|ui/dist)/' },
  },
};
