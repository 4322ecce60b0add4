import path from 'node:path';
import { PROJECT_ROOT } from '../../config';

/** URL prefix of the explorer's files. */
export const EXPLORER_ASSET_PREFIX = '/_explorer/';

/** The files the explorer page loads, from node_modules: no CDN, so it works offline. */
export const EXPLORER_ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  'react.production.min.js': { file: 'react/umd/react.production.min.js', type: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { file: 'react-dom/umd/react-dom.production.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { file: 'graphiql/graphiql.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { file: 'graphiql/graphiql.min.css', type: 'text/css; charset=utf-8' },
  'graphql-ws.min.js': { file: 'graphql-ws/umd/graphql-ws.min.js', type: 'text/javascript; charset=utf-8' },
};

/** Absolute path of an explorer asset, or undefined for any other name. */
export function explorerAssetPath(name: string): string | undefined {
  const asset = Object.prototype.hasOwnProperty.call(EXPLORER_ASSETS, name) ? EXPLORER_ASSETS[name] : undefined;
  return asset ? path.join(PROJECT_ROOT, 'node_modules', asset.file) : undefined;
}

/** The query the explorer opens with (a test runs it against the demo). */
export const DEFAULT_QUERY = `# hubble-graph: who talks to whom, stored in Neo4j.
# Add "Authorization: Bearer <token>" under Headers when the API needs a token.
query Overview {
  stats { endpoints pods calls namespaces lastFlowTime ingestLagMs }
  calls(first: 10, orderBy: {field: REQUESTS}) {
    totalCount
    nodes { source { id } destination { id } port protocol verdict flows requests errorRate }
  }
}
`;

/** The explorer page: GraphiQL 3 (UMD) on React 18 (UMD), queries over HTTP, subscriptions over graphql-ws. */
export function explorerHtml(): string {
  const p = EXPLORER_ASSET_PREFIX;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hubble-graph GraphQL explorer</title>
<link rel="stylesheet" href="${p}graphiql.min.css">
<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style>
</head>
<body>
<div id="graphiql">Loading the explorer...</div>
<script src="${p}react.production.min.js"></script>
<script src="${p}react-dom.production.min.js"></script>
<script src="${p}graphql-ws.min.js"></script>
<script src="${p}graphiql.min.js"></script>
<script>
  var url = window.location.origin + window.location.pathname;
  var wsUrl = url.replace(/^http/, 'ws');
  var fetcher = GraphiQL.createFetcher({
    url: url,
    wsClient: graphqlWs.createClient({
      url: wsUrl,
      connectionParams: function () {
        var headers = {};
        try { headers = JSON.parse(localStorage.getItem('graphiql:headers') || '{}'); } catch (e) {}
        return headers.Authorization ? { authorization: headers.Authorization } : {};
      }
    })
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: ${JSON.stringify(DEFAULT_QUERY)}, shouldPersistHeaders: true })
  );
</script>
</body>
</html>
`;
}
