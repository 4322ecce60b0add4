/** What `start` is running, for the banner it prints once everything is up. */
export interface StartBannerInfo {
  /** GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql` (a browser there gets the explorer). */
  readonly apiUrl: string;
  readonly wsUrl: string;
  readonly boltUri: string;
  readonly neo4jUser: string;
  /** Neo4j Browser of the local Neo4j; undefined when NEO4J_URI names another server. */
  readonly browserUrl?: string;
  /** The guide and style that the API serves for Neo4j Browser (absolute URLs). */
  readonly browserGuideUrl: string;
  readonly browserStyleUrl: string;
  /** The map page, once the API serves it; no line without it. */
  readonly mapUrl?: string;
  readonly replayAddress: string;
  readonly collectorMetricsUrl: string;
  /** Set when the collector had written nothing when the banner was due (the log says why). */
  readonly notWrittenYet?: boolean;
}

/** The first Cypher query the banner suggests: a picture of who the demo's shop namespace calls. */
export const SAMPLE_CYPHER = "MATCH p = (:Pod {namespace: 'shop'})-[:CALLS]->(:Endpoint) RETURN p LIMIT 100";

/** The GraphQL query the banner's curl line sends. */
export const SAMPLE_GRAPHQL = '{ stats { pods calls lastFlowTime ingestLagMs } }';

/**
 * The banner of `npm start` (pure): what to try first — the map page when there is one, the
 * explorer (it opens with a sample query), Neo4j Browser with a sample query, its style and the
 * guide of the README's examples — then the other addresses. Printed once, last, on stdout.
 */
export function buildStartBanner(info: StartBannerInfo): string {
  const col = (name: string, value: string) => `    ${name.padEnd(19)}${value}`;
  const browserWithQuery = info.browserUrl
    ? `${info.browserUrl}?dbms=${encodeURIComponent(`${info.boltUri.replace(/^(\w[\w+]*:\/\/)/, `$1${info.neo4jUser}@`)}`)}&cmd=edit&arg=${encodeURIComponent(SAMPLE_CYPHER)}`
    : undefined;
  const lines = [
    '',
    'hubble-graph is up on the embedded default: demo Hubble -> collector -> Neo4j -> GraphQL API. Ctrl-C stops it.',
    ...(info.notWrittenYet ? ['(the collector has written nothing yet: see the log above)'] : []),
    '',
    '  Try first',
    ...(info.mapUrl ? [col('map of the cluster', info.mapUrl)] : []),
    col('GraphQL explorer', `${info.apiUrl}   (opens with a sample query: press Run)`),
    col('', `or: curl -s ${info.apiUrl} -H 'content-type: application/json' -d '${JSON.stringify({ query: SAMPLE_GRAPHQL })}'`),
    ...(browserWithQuery
      ? [
          col('Neo4j Browser', `${info.browserUrl}   (user ${info.neo4jUser}, password from NEO4J_PASSWORD, default hubble-graph)`),
          col('', `with a sample query in the editor: ${browserWithQuery}`),
          col('', `sample Cypher: ${SAMPLE_CYPHER}`),
        ]
      : [
          col(
            'Neo4j Browser',
            `connect yours to ${info.boltUri} (user ${info.neo4jUser}); allow 127.0.0.1 in browser.remote_content_hostname_whitelist`,
          ),
        ]),
    col('', `style (colours, captions):   :style ${info.browserStyleUrl}`),
    col('', `guide (the README queries):  :play ${info.browserGuideUrl}`),
    '',
    '  Also running',
    col('subscriptions', info.wsUrl),
    col('Neo4j Bolt', `${info.boltUri} (user ${info.neo4jUser})`),
    col('demo Hubble', `${info.replayAddress}   (hubble observe --server ${info.replayAddress} --last 5)`),
    col('collector metrics', info.collectorMetricsUrl),
    '',
  ];
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n`;
}
