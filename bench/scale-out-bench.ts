import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import type { HubbleEvent } from '../src/flows/flow';
import { generateFlows } from '../src/generator/generate-flows';
import { type ReplayServer, startReplayServer } from '../src/hubble/replay-server';
import { shardOfNode } from '../src/hubble/shard-of-node';
import { type BenchGraph, resetGraph } from './bench-graph';
import { round, waitFor } from './bench-stats';
import { type BenchChild, spawnNodeChild } from './child-process';
import { diffGraph, isExact, truthEdgeCounts } from './ground-truth-diff';
import { freePort, procCpuSeconds, scrapeMetrics, waitForCollectorUp } from './ingest-bench';

/**
 * Part `scale`: N sharded collectors (`hubble-graph collect --shard-count N --shard-index i`, one
 * process each) against N replay servers, each serving the flows of the Hubble nodes of its shard
 * (as N Hubble Relays, or one Relay filtered by node_name, would), all writing into one Neo4j. For
 * each N: flows/s and rows/s into Neo4j until the graph is complete, the graph compared with the
 * generator's ground truth, and the CPU each process used.
 */
export interface ScaleOutRun {
  collectors: number;
  flows: number;
  seconds: number;
  flowsPerSec: number;
  /** Rows (endpoints + calls) committed by all collectors, per second of the run. */
  rowsPerSec: number;
  rows: number;
  /** Activity bucket rows committed besides (a minute and an hour per active call-minute). */
  bucketRows: number;
  /** Write batches committed (`hubble_graph_batches_total{result="committed"}`); a staged batch is several transactions. */
  transactions: number;
  graphExact: boolean;
  mismatches: string[];
  /** CPU of each collector and of Neo4j as % of one core over the run (2 cores = 200%). */
  collectorCpuPct: number[];
  neo4jCpuPct: number;
  /** The bench process: the N replay servers and the polling. */
  benchProcessCpuPct: number;
}

export interface ScaleOutResult {
  flows: number;
  edges: number;
  pods: number;
  nodes: number;
  runs: ScaleOutRun[];
}

export interface ScaleOutOptions {
  flows: number;
  edges: number;
  collectorCounts: readonly number[];
  log: (msg: string) => void;
}

async function startShard(
  graph: BenchGraph,
  replayAddress: string,
  count: number,
  index: number,
): Promise<{ child: BenchChild; metricsUrl: string }> {
  const port = await freePort();
  const child = spawnNodeChild([path.join(PROJECT_ROOT, 'bin', 'hubble-graph.js'), 'collect'], {
    ...graph.childEnv,
    HUBBLE_SERVER: replayAddress,
    HG_COLLECTOR_LISTEN: `127.0.0.1:${port}`,
    HG_COLLECTOR_ID: `bench-shard-${count}-${index}`,
    HG_SHARD_COUNT: String(count),
    HG_SHARD_INDEX: String(index),
    HG_MIGRATE: 'false',
    // The first flushes create every edge at once; on a busy machine they outlast the default 30 s,
    // and a flush that times out is retried larger still.
    HG_NEO4J_QUERY_TIMEOUT: '300s',
    // Every bucket with every flush: held buckets would go out up to 15 s after the flows, after the
    // clock stopped, in some runs and not others, so that rows/s would not compare.
    HG_BUCKET_WRITE_INTERVAL: '0s',
    LOG_LEVEL: 'warn',
  });
  const metricsUrl = `http://127.0.0.1:${port}`;
  await waitForCollectorUp(child, metricsUrl, `collector shard ${index}/${count}`);
  return { child, metricsUrl };
}

export async function runScaleOutBench(graph: BenchGraph, o: ScaleOutOptions): Promise<ScaleOutResult> {
  const { executor } = graph;
  // About 40 pods per node in the generator: enough nodes for every shard of the largest N.
  const pods = Math.max(400, Math.round(o.edges / 10));
  const gen = generateFlows({ pods, edges: o.edges, flows: o.flows, seed: 14 });
  const events: HubbleEvent[] = [];
  for (const r of gen) events.push({ kind: 'flow', flow: r.flow, nodeName: r.node_name });
  const truth = gen.truth();
  const nodes = new Set(events.map((e) => (e.kind === 'flow' ? (e.nodeName ?? '') : '')));
  o.log(`scale: ${events.length} flows, ${truth.calls.length} edges, ${pods} pods on ${nodes.size} nodes`);
  const result: ScaleOutResult = { flows: events.length, edges: truth.calls.length, pods, nodes: nodes.size, runs: [] };
  const neo4jPid = graph.neo4jPid;

  for (const count of o.collectorCounts) {
    await resetGraph(executor);
    const parts: HubbleEvent[][] = Array.from({ length: count }, () => []);
    for (const e of events) parts[count === 1 ? 0 : shardOfNode(e.kind === 'flow' ? (e.nodeName ?? '') : '', count)]!.push(e);
    const replays: ReplayServer[] = [];
    const shards: Array<{ child: BenchChild; metricsUrl: string }> = [];
    try {
      // The replay servers hold the flows; the collectors start first and wait for them.
      for (let i = 0; i < count; i++) replays.push(await startReplayServer({ events: [], listen: '127.0.0.1:0' }));
      for (let i = 0; i < count; i++) shards.push(await startShard(graph, replays[i]!.address, count, i));
      const cpu0 = { shards: shards.map((s) => procCpuSeconds(s.child.pid)), neo4j: procCpuSeconds(neo4jPid), bench: process.cpuUsage() };
      const startWall = Date.now();
      parts.forEach((part, i) => replays[i]!.append(part));
      let total = 0;
      const complete = await waitFor(
        async () => {
          const [row] = await executor.read<{ total: number }>('MATCH ()-[r:CALLS]->() RETURN sum(r.flows) AS total');
          total = row?.total ?? 0;
          return total >= truth.flows || shards.some((s) => s.child.exited());
        },
        900_000,
        200,
      );
      if (!complete || total < truth.flows)
        throw new Error(
          `scale ${count}: graph incomplete, ${total}/${truth.flows} flows:\n${shards.map((s) => s.child.stderrTail()).join('\n')}`,
        );
      // The flows are all in; a collector's last write (its bucket parts, a staged batch's last part)
      // may still be running, and its rows count once it returns: wait for every shard to have
      // nothing dirty or pending before the clock stops and the counters are read.
      let metrics: Map<string, number>[] = [];
      const drained = await waitFor(
        async () => {
          metrics = await Promise.all(shards.map((s) => scrapeMetrics(s.metricsUrl)));
          return metrics.every(
            (m) =>
              (m.get('hubble_graph_dirty_edges') ?? 0) === 0 &&
              (m.get('hubble_graph_pending_rows') ?? 0) === 0 &&
              (m.get('hubble_graph_held_buckets') ?? 0) === 0,
          );
        },
        60_000,
        100,
      );
      if (!drained)
        throw new Error(
          `scale ${count}: a collector still had rows to write 60 s after the graph was complete:\n${shards.map((s) => s.child.stderrTail()).join('\n')}`,
        );
      const seconds = (Date.now() - startWall) / 1000;
      const bench = process.cpuUsage(cpu0.bench);
      const rows = metrics.reduce(
        (n, m) =>
          n +
          (m.get('hubble_graph_rows_written_total{kind="call"}') ?? 0) +
          (m.get('hubble_graph_rows_written_total{kind="endpoint"}') ?? 0),
        0,
      );
      const bucketRows = metrics.reduce((n, m) => n + (m.get('hubble_graph_rows_written_total{kind="bucket"}') ?? 0), 0);
      const transactions = metrics.reduce((n, m) => n + (m.get('hubble_graph_batches_total{result="committed"}') ?? 0), 0);
      const diff = await diffGraph(
        executor,
        truthEdgeCounts(truth),
        truth.endpoints.map((e) => e.id),
      );
      const run: ScaleOutRun = {
        collectors: count,
        flows: events.length,
        seconds: round(seconds, 2),
        flowsPerSec: round(events.length / seconds, 0),
        rowsPerSec: round(rows / seconds, 0),
        rows,
        bucketRows,
        transactions,
        graphExact: isExact(diff),
        mismatches: diff.examples,
        collectorCpuPct: shards.map((s, i) => round((100 * (procCpuSeconds(s.child.pid) - cpu0.shards[i]!)) / seconds, 0)),
        neo4jCpuPct: round((100 * (procCpuSeconds(neo4jPid) - cpu0.neo4j)) / seconds, 0),
        benchProcessCpuPct: round((100 * (bench.user + bench.system)) / 1e6 / seconds, 0),
      };
      result.runs.push(run);
      o.log(
        `scale ${count} collector(s): ${run.flowsPerSec} flows/s, ${run.rowsPerSec} rows/s (${rows} rows and ${bucketRows} bucket rows in ${transactions} write batches, ${run.seconds} s); ` +
          `CPU per collector ${run.collectorCpuPct.join('/')}%, Neo4j ${run.neo4jCpuPct}%, replay servers ${run.benchProcessCpuPct}%; graph ${run.graphExact ? 'exact' : `WRONG: ${run.mismatches.join('; ')}`}`,
      );
    } finally {
      await Promise.all(shards.map((s) => s.child.stop(30_000)));
      for (const r of replays) await r.stop();
    }
  }
  return result;
}
