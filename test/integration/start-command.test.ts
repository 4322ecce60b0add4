import { startCli } from './../helpers/cli';
import { waitFor } from '../helpers/ground-truth';
import { testEnv } from '../helpers/neo4j';

interface StatsResponse {
  data?: { stats: { calls: number; pods: number; flowsIngested: number } };
}

/** `npm start` on the embedded default (pointed at the test Neo4j): a live graph, then a clean stop. */
describe('hubble-graph start', () => {
  it('serves a growing graph from the demo flows and stops cleanly on SIGTERM', async () => {
    const proc = startCli(['start', '--demo-rate', '2000'], testEnv({ HG_API_PORT: '0', HG_REPLAY_LISTEN: '127.0.0.1:0', HG_COLLECTOR_LISTEN: '127.0.0.1:0', HG_FLUSH_INTERVAL: '200ms' }));
    try {
      const url = await waitFor('the API URL', async () => /GraphQL API \+ explorer\s+(\S+)/.exec(proc.output())?.[1], (u) => u !== undefined, 60_000);
      const stats = async () => {
        const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ stats { calls pods flowsIngested } }' }) });
        return ((await res.json()) as StatsResponse).data?.stats;
      };
      const first = await waitFor('pods and edges in the graph', stats, (s) => (s?.calls ?? 0) > 10 && (s?.pods ?? 0) > 10, 60_000);
      await waitFor('more flows ingested', stats, (s) => (s?.flowsIngested ?? 0) > (first?.flowsIngested ?? 0), 30_000);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
  });
});
