import { startCli } from './../helpers/cli';
import { waitFor } from '../helpers/ground-truth';
import { testEnv } from '../helpers/neo4j';

interface StatsResponse {
  data?: { stats: { calls: number; pods: number; flowsIngested: number } };
}

/** `npm start` on the embedded default (pointed at the test Neo4j): a live graph, then a clean stop. */
describe('hubble-graph start', () => {
  it('serves a growing graph from the demo flows, prints its banner last once data is in, and stops cleanly on SIGTERM', async () => {
    const proc = startCli(
      ['start', '--demo-rate', '2000'],
      testEnv({
        LOG_LEVEL: 'info',
        HG_API_PORT: '0',
        HG_REPLAY_LISTEN: '127.0.0.1:0',
        HG_COLLECTOR_LISTEN: '127.0.0.1:0',
        HG_FLUSH_INTERVAL: '200ms',
      }),
    );
    try {
      const url = await waitFor(
        'the API URL',
        async () => /GraphQL explorer\s+(\S+)/.exec(proc.output())?.[1],
        (u) => u !== undefined,
        60_000,
      );
      const stats = async () => {
        const res = await fetch(url!, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ stats { calls pods flowsIngested } }' }),
        });
        return ((await res.json()) as StatsResponse).data?.stats;
      };
      // The banner waits for the collector's first write: the graph has data when it appears.
      expect((await stats())?.calls ?? 0).toBeGreaterThan(0);
      const output = proc.output();
      const lines = output.split('\n');
      const bannerStart = lines.findIndex((l) => l.startsWith('hubble-graph is up'));
      const bannerEnd = lines.findIndex((l, i) => i > bannerStart && l.includes('collector metrics'));
      expect(bannerStart).toBeGreaterThan(0);
      // On its own: no log line inside it, and the startup log (up to the collector's first stream) above it.
      expect(lines.slice(bannerStart, bannerEnd + 1).filter((l) => l.startsWith('{'))).toEqual([]);
      const startupMessages = lines
        .slice(0, bannerStart)
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(startupMessages).toEqual(expect.arrayContaining(['GraphQL API listening', 'GetFlows']));
      // What it tells a person to open answers.
      for (const link of [...output.matchAll(/:(?:style|play) (\S+)/g)].map((m) => m[1]!)) expect((await fetch(link)).status).toBe(200);

      const first = await waitFor('pods and edges in the graph', stats, (s) => (s?.calls ?? 0) > 10 && (s?.pods ?? 0) > 10, 60_000);
      await waitFor('more flows ingested', stats, (s) => (s?.flowsIngested ?? 0) > (first?.flowsIngested ?? 0), 30_000);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
  }, 240_000);
});
