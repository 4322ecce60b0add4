import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Flow, HubbleEvent } from '../src/flows/flow';
import { formatFlowTime } from '../src/flows/flow-time';
import { type ReplayServer, startReplayServer } from '../src/hubble/replay-server';
import { podId } from '../src/model/endpoint-ids';
import { startBenchApi, type ApiHandle } from './bench-api';
import { type BenchGraph, resetGraph } from './bench-graph';
import { round, sleep, summarize, waitFor } from './bench-stats';
import { startCollectorProcess, type CollectorHandle } from './ingest-bench';

/**
 * Part 5: 100 graphql-ws clients subscribed to `callAdded`; a flow that creates a new edge is
 * appended to the replay server that a collector process follows, and the clock runs until every
 * client has the event (collector flush interval + commit + the API's change-feed poll + fan-out).
 * Then a burst of new edges at once, for events/s delivered.
 */
export interface SubscriptionResult {
  ran: boolean;
  reason?: string;
  subscribers: number;
  events: number;
  /** Flow appended -> the last of the subscribers received callAdded. */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The new edges sent before the measured ones (appended -> the last subscriber's receipt): the first, and the slowest. */
  warmUp?: { events: number; firstMs: number; maxMs: number };
  /** Flow appended -> each subscriber's receipt (all subscribers, all events). */
  perClient?: ReturnType<typeof summarize>;
  burst?: { edges: number; deliveries: number; seconds: number };
  eventsPerSec: number;
  missed: number;
  settings: { flushIntervalMs: number; changePollMs: number };
}

/** New edges sent (and reported apart) before the measured ones: see runSubscriptionBench. */
const WARM_UP_EVENTS = 8;

const SUBSCRIPTION = 'subscription { callAdded { key port protocol verdict flows source { id } destination { id } } }';

function newEdgeFlow(i: number, timeMs: number): HubbleEvent {
  const ns = 'bench-sub';
  const client = `client-${i}`;
  const mk = (name: string, id: number) => ({
    ID: id,
    identity: 40_000 + id,
    namespace: ns,
    pod_name: name,
    labels: [`k8s:app=${name.replace(/-\d+$/, '')}`, `k8s:io.kubernetes.pod.namespace=${ns}`],
    workloads: [{ name: name.replace(/-\d+$/, ''), kind: 'Deployment' }],
  });
  const flow: Flow = {
    time: formatFlowTime(timeMs, 0),
    verdict: 'FORWARDED',
    IP: { source: `10.200.${(i >> 8) & 255}.${i & 255}`, destination: '10.201.0.1', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40_000 + (i % 20_000), destination_port: 8080, flags: { SYN: true } } },
    source: mk(client, 1 + i),
    destination: mk('server-0', 100_000),
    Type: 'L3_L4',
    node_name: 'node-0',
    traffic_direction: 'EGRESS',
    is_reply: false,
    event_type: { type: 4 },
  };
  return { kind: 'flow', flow, nodeName: 'node-0' };
}

export async function runSubscriptionBench(
  graph: BenchGraph,
  o: { subscribers: number; events: number; burst: number; log: (msg: string) => void },
): Promise<SubscriptionResult> {
  const settings = { flushIntervalMs: graph.config.collector.flushIntervalMs, changePollMs: graph.config.api.changePollMs };
  const empty = (reason: string): SubscriptionResult => ({
    ran: false,
    reason,
    subscribers: o.subscribers,
    events: 0,
    p50Ms: NaN,
    p95Ms: NaN,
    maxMs: NaN,
    eventsPerSec: NaN,
    missed: 0,
    settings,
  });
  await resetGraph(graph.executor);
  let replay: ReplayServer | undefined;
  let collector: CollectorHandle | undefined;
  let api: ApiHandle | undefined;
  const clients: Client[] = [];
  try {
    api = await startBenchApi(graph, o.log);
    if (!api) return empty('no API server in this build');
    replay = await startReplayServer({ events: [], listen: '127.0.0.1:0', nodeStatus: false });
    collector = await startCollectorProcess(graph, replay.address, undefined);
    // received[key] = receipt times (ms) per client
    const received = new Map<string, number[]>();
    let subscribed = 0;
    for (let c = 0; c < o.subscribers; c++) {
      const client = createClient({ url: api.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
      clients.push(client);
      client.subscribe<{ callAdded: { key: string } }>(
        { query: SUBSCRIPTION },
        {
          next: (msg) => {
            const key = msg.data?.callAdded.key;
            if (key === undefined) return;
            let list = received.get(key);
            if (!list) received.set(key, (list = []));
            list.push(Date.now());
          },
          error: (err) => o.log(`subscriber ${c} error: ${err instanceof Error ? err.message : JSON.stringify(err)}`),
          complete: () => undefined,
        },
      );
      client.on('connected', () => subscribed++);
    }
    if (!(await waitFor(() => subscribed >= o.subscribers, 30_000, 50)))
      return empty(`only ${subscribed}/${o.subscribers} subscribers connected`);
    // Let the subscriptions register and the change feed take its first reading.
    await sleep(2 * settings.changePollMs + 500);

    const keyOf = (ev: HubbleEvent) => {
      const f = (ev as Extract<HubbleEvent, { kind: 'flow' }>).flow;
      return `${podId(f.source!.namespace!, f.source!.pod_name!)}|${podId(f.destination!.namespace!, f.destination!.pod_name!)}|8080|TCP|FORWARDED`;
    };
    const toAll: number[] = [];
    const perClient: number[] = [];
    let missed = 0;
    // The first new edges after the collector starts pay Neo4j's planning of the writer's statements
    // (the first 3.6 s on a server that had not planned them yet, 0.5 s on one that had, for an
    // earlier collector; the held buckets' and roll-ups' statements are planned with the next few):
    // WARM_UP_EVENTS are sent first, timed and reported apart, and the measured events follow them.
    const warmUpMs: number[] = [];
    for (let i = -WARM_UP_EVENTS; i < o.events; i++) {
      const appendedAt = Date.now();
      const ev = newEdgeFlow(i < 0 ? o.events + o.burst - i : i, appendedAt);
      const key = keyOf(ev);
      replay.append([ev]);
      const ok = await waitFor(() => (received.get(key)?.length ?? 0) >= o.subscribers, 15_000, 5);
      const times = received.get(key) ?? [];
      if (i < 0) {
        if (times.length > 0) warmUpMs.push(Math.max(...times) - appendedAt);
      } else {
        if (!ok) missed += o.subscribers - times.length;
        if (times.length > 0) {
          toAll.push(Math.max(...times) - appendedAt);
          for (const t of times) perClient.push(t - appendedAt);
        }
      }
      // Spread the appends over the flush and poll cycles.
      await sleep(100 + ((Math.abs(i) * 379) % 900));
    }
    const all = summarize(toAll);
    o.log(
      `callAdded to all ${o.subscribers} subscribers: p50 ${all.p50} ms, p95 ${all.p95} ms, max ${all.max} ms (missed ${missed}); ` +
        `the ${WARM_UP_EVENTS} new edges before them: first ${warmUpMs[0] ?? '?'} ms, max ${warmUpMs.length > 0 ? Math.max(...warmUpMs) : '?'} ms`,
    );

    // Burst: many new edges at once; deliveries per second until every client has every event.
    const burstStart = Date.now();
    const burst: HubbleEvent[] = Array.from({ length: o.burst }, (_, k) => newEdgeFlow(o.events + k, burstStart));
    const burstKeys = burst.map(keyOf);
    replay.append(burst);
    const delivered = () => burstKeys.reduce((n, k) => n + (received.get(k)?.length ?? 0), 0);
    await waitFor(() => delivered() >= o.burst * o.subscribers, 60_000, 20);
    const lastReceipt = Math.max(burstStart, ...burstKeys.flatMap((k) => received.get(k) ?? []));
    const burstSeconds = (lastReceipt - burstStart) / 1000;
    const deliveries = delivered();
    const eventsPerSec = round(deliveries / burstSeconds, 0);
    o.log(`burst of ${o.burst} new edges: ${deliveries} deliveries in ${round(burstSeconds, 2)} s (${eventsPerSec} events/s)`);
    return {
      ran: true,
      subscribers: o.subscribers,
      events: o.events,
      p50Ms: all.p50,
      p95Ms: all.p95,
      maxMs: all.max,
      warmUp: { events: WARM_UP_EVENTS, firstMs: warmUpMs[0] ?? NaN, maxMs: warmUpMs.length > 0 ? Math.max(...warmUpMs) : NaN },
      perClient: summarize(perClient),
      burst: { edges: o.burst, deliveries, seconds: round(burstSeconds, 2) },
      eventsPerSec,
      missed,
      settings,
    };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    if (collector) await collector.child.stop(30_000);
    if (api) await api.close();
    if (replay) await replay.stop();
  }
}
