import { EdgeAggregator } from '../src/flows/edge-aggregator';
import type { Flow, FlowEndpoint } from '../src/flows/flow';
import { heapAfterGc } from './bench-stats';

/**
 * Memory of the aggregator's two pairing windows when both are full (their default bound, 100,000
 * entries each), in a process of its own started with --expose-gc. Flows are made one at a time and
 * let go, as the collector lets go of a decoded flow: what the windows keep of them (request ids)
 * is counted. TCP opens from 100 client pods to 50 server pods, each with a client port of its own;
 * HTTP requests, each with an X-Request-Id of 36 characters, as Envoy and most meshes send them.
 * Edges are drained as they would be, so the figure is the windows (plus a few hundred cached
 * endpoints). Prints one JSON line.
 * Usage: window-probe.js [ENTRIES_PER_WINDOW] (default 100000, the aggregator's default bound)
 */
const entries = Number(process.argv[2] ?? 100_000);

function pod(namespace: string, podName: string, identity: number): FlowEndpoint {
  return { identity, namespace, pod_name: podName, labels: [`k8s:app=${podName.split('-')[0]}`] };
}

const clients = Array.from({ length: 100 }, (_, i) => pod('shop', `web${i}-5d8f7c-q2w3e`, 1000 + i));
const servers = Array.from({ length: 50 }, (_, i) => pod('shop', `api${i}-6c9e8d-r4t5y`, 2000 + i));
const startMs = Date.UTC(2026, 0, 1);

/** A 36-character id, flat as a decoder makes it (not a concatenation). */
function requestId(i: number): string {
  const hex = (i * 2654435761).toString(16).padStart(12, '0').slice(-12);
  return Buffer.from(`5f0c6a2e-9b1d-4c3a-8e7f-${hex}`, 'latin1').toString('latin1');
}

function* flows(n: number): Generator<Flow> {
  for (let i = 0; i < n; i++) {
    const time = new Date(startMs + i).toISOString();
    const client = clients[Math.floor(i / 60_000) % clients.length] as FlowEndpoint;
    const server = servers[i % servers.length] as FlowEndpoint;
    const base = { time, verdict: 'FORWARDED', IP: { source: '10.0.1.1', destination: '10.0.2.1' }, source: client, destination: server };
    yield {
      ...base,
      traffic_direction: 'EGRESS',
      is_reply: false,
      node_name: 'node-a',
      l4: { TCP: { source_port: 1024 + (i % 60_000), destination_port: 8080, flags: { SYN: true } } },
    };
    yield {
      ...base,
      traffic_direction: 'EGRESS',
      is_reply: false,
      node_name: 'node-a',
      Type: 'L7',
      l4: { TCP: { source_port: 40_000, destination_port: 80 } },
      l7: {
        type: 'REQUEST',
        http: { method: 'GET', url: 'http://api/items/1', protocol: 'HTTP/1.1', headers: [{ key: 'X-Request-Id', value: requestId(i) }] },
      },
    };
  }
}

/**
 * Compiled code and the module's caches into the baseline; in a function of its own, so that its
 * aggregator (and the room its windows set aside) is garbage by the first measurement.
 */
function warmUp(): void {
  const warm = new EdgeAggregator({ maxDedupEntries: entries });
  for (const f of flows(2000)) warm.add(f);
  warm.drain();
}

function main(): void {
  warmUp();
  // Before the aggregator: a window may set aside its room when it is made.
  const h0 = heapAfterGc();
  const agg = new EdgeAggregator({ maxDedupEntries: entries });
  let n = 0;
  // Half as many flows again as the windows hold: both are full, and have forgotten their oldest.
  for (const f of flows(Math.round(entries * 1.5))) {
    agg.add(f);
    if ((++n & 4095) === 0) agg.drain();
  }
  agg.drain();
  const bytes = heapAfterGc() - h0;
  process.stdout.write(
    `${JSON.stringify({ entriesPerWindow: entries, windows: 2, bytes, mib: Math.round((bytes / 1048576) * 10) / 10, bytesPerEntry: Math.round(bytes / (2 * entries)), kept: agg.dirtyEdges })}\n`,
  );
}

main();
