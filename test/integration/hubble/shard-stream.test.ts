import * as grpc from '@grpc/grpc-js';
import type { Flow, HubbleEvent } from '../../../src/flows/flow';
import { generateFlows } from '../../../src/generator/generate-flows';
import { encodeServerStatus } from '../../../src/hubble/hubble-codec';
import { streamHubbleEvents } from '../../../src/hubble/observer-client';
import { OBSERVER_SERVICE } from '../../../src/hubble/observer-service';
import { startReplayServer, type ReplayServer } from '../../../src/hubble/replay-server';
import { shardOfNode } from '../../../src/hubble/shard-of-node';

const HUBBLE = { tls: false, reconnectMinMs: 50, reconnectMaxMs: 200 };

/** (No resume overlap: what a restart for new nodes must fetch again comes from the catch-up alone.) The flows one shard's stream yields until `expected` of them have come (or 60 s), then 300 ms more to catch repeats. */
async function readShard(
  server: string,
  count: number,
  index: number,
  expected: number,
  onFirst?: () => void,
  refreshMs = 200,
): Promise<{ flows: Flow[]; nodeLists: string[][] }> {
  const ac = new AbortController();
  const flows: Flow[] = [];
  const nodeLists: string[][] = [];
  const deadline = setTimeout(() => ac.abort(), 60_000);
  let settle: NodeJS.Timeout | undefined;
  try {
    for await (const ev of streamHubbleEvents({
      hubble: { ...HUBBLE, server },
      signal: ac.signal,
      resumeOverlapMs: 0,
      shard: { count, index, refreshMs },
      onShardNodes: (n) => nodeLists.push([...n]),
    })) {
      if (ev.kind !== 'flow') continue;
      flows.push(ev.flow);
      if (flows.length === 1) onFirst?.();
      if (flows.length >= expected && settle === undefined) settle = setTimeout(() => ac.abort(), 300);
    }
  } finally {
    clearTimeout(deadline);
    if (settle) clearTimeout(settle);
  }
  return { flows, nodeLists };
}

const nodeOf = (e: HubbleEvent) => (e.kind === 'flow' ? (e.nodeName ?? e.flow.node_name ?? '') : '');

describe('a sharded Hubble stream (real gRPC, the replay server as Relay)', () => {
  let replay: ReplayServer | undefined;
  afterEach(async () => replay?.stop());

  const events: HubbleEvent[] = [...generateFlows({ pods: 200, edges: 200, flows: 3000, seed: 3 })].map((r) => ({
    kind: 'flow',
    flow: r.flow,
    nodeName: r.node_name,
  }));

  it('asks Relay for its own nodes only: each flow reaches exactly the shard of its node', async () => {
    replay = await startReplayServer({ events, listen: '127.0.0.1:0' });
    const seen = new Map<string, number>();
    for (let index = 0; index < 3; index++) {
      const mine = events.filter((e) => shardOfNode(nodeOf(e), 3) === index);
      const { flows, nodeLists } = await readShard(replay.address, 3, index, mine.length);
      expect(flows.map((f) => f.uuid)).toEqual(mine.map((e) => (e.kind === 'flow' ? e.flow.uuid : '')));
      expect(nodeLists[0]).toEqual([...new Set(mine.map(nodeOf))].sort());
      for (const f of flows) seen.set(f.uuid!, (seen.get(f.uuid!) ?? 0) + 1);
    }
    expect(seen.size).toBe(events.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('starts reading within seconds when its nodes come after it asked, not after a whole refresh', async () => {
    // Relay with no node yet: the shard's first GetNodes finds none. With a refresh of 30 s, the
    // first flows must still come within seconds of the nodes appearing.
    replay = await startReplayServer({ events: [], listen: '127.0.0.1:0' });
    const server = replay;
    const mine = events.filter((e) => shardOfNode(nodeOf(e), 2) === 1);
    let appendedAt = 0;
    let firstAt = 0;
    setTimeout(() => {
      appendedAt = Date.now();
      server.append(events);
    }, 1_500);
    const { flows } = await readShard(server.address, 2, 1, mine.length, () => (firstAt = Date.now()), 30_000);
    expect(flows.map((f) => f.uuid)).toEqual(mine.map((e) => (e.kind === 'flow' ? e.flow.uuid : '')));
    expect(appendedAt).toBeGreaterThan(0);
    // Asked again after 1 s, 2 s, 4 s...: the nodes, there since 1.5 s, are found at 3 s at the latest.
    expect(firstAt - appendedAt).toBeLessThan(10_000);
  });

  it('takes a node that joins while it streams, from when the node list last lacked it, and repeats nothing of the others', async () => {
    // The node of shard 0 that joins late: its flows come only in the second half of the recording.
    const nodes = [...new Set(events.map(nodeOf))].filter((n) => shardOfNode(n, 2) === 0).sort();
    expect(nodes.length).toBeGreaterThan(1);
    const late = nodes[nodes.length - 1];
    const half = Math.floor(events.length / 2);
    const first = events.slice(0, half).filter((e) => nodeOf(e) !== late);
    const second = events.slice(half);
    replay = await startReplayServer({ events: first, listen: '127.0.0.1:0' });
    const mine = [...first, ...second].filter((e) => shardOfNode(nodeOf(e), 2) === 0);
    const server = replay;
    // Once the first half has been read and the node list seen without the late node, it joins; the
    // other nodes' flows of the second half are read long before the next node-list refresh sees it.
    const { flows, nodeLists } = await readShard(
      server.address,
      2,
      0,
      mine.length,
      () => setTimeout(() => server.append(second), 2500),
      2000,
    );
    expect(nodeLists[0]).not.toContain(late);
    expect(nodeLists[nodeLists.length - 1]).toContain(late);
    expect(flows.map((f) => f.uuid).sort()).toEqual(mine.map((e) => (e.kind === 'flow' ? e.flow.uuid! : '')).sort());
  });
  it('keeps a joining node wanted from its own point when another node joins before its catch-up has come', async () => {
    // Three nodes of shard 0: `old` from the start, `n1` joining with flows of the last seconds, `n2`
    // joining while n1's are still being sent again (paced, so the second restart cuts n1's catch-up).
    const [old, n1, n2] = [...new Set(events.map(nodeOf))].filter((n) => shardOfNode(n, 2) === 0).sort();
    expect(n2).toBeDefined();
    const T0 = Date.parse('2026-12-01T10:00:00Z');
    let serial = 0;
    const at = (node: string, ms: number): HubbleEvent => {
      const template = events[serial % events.length]!;
      serial++;
      const flow = {
        ...(template.kind === 'flow' ? template.flow : {}),
        uuid: `flow-${serial}`,
        node_name: node,
        time: new Date(T0 + ms).toISOString(),
      };
      return { kind: 'flow', flow, nodeName: node };
    };
    const every = (node: string, fromMs: number, toMs: number, stepMs: number) =>
      Array.from({ length: Math.floor((toMs - fromMs) / stepMs) }, (_, i) => at(node, fromMs + i * stepMs));
    const byTime = (list: HubbleEvent[]) =>
      list.sort((a, b) => (a.kind === 'flow' && b.kind === 'flow' ? Date.parse(a.flow.time!) - Date.parse(b.flow.time!) : 0));
    const phase1 = every(old!, 0, 10_000, 50);
    const phase2 = byTime([...every(old!, 12_000, 22_000, 50), ...every(n1!, 12_000, 22_000, 50)]);
    const phase3 = every(n2!, 22_500, 24_500, 50);
    replay = await startReplayServer({ events: phase1, listen: '127.0.0.1:0', rate: 150 });
    const server = replay;
    const ac = new AbortController();
    const deadline = setTimeout(() => ac.abort(), 45_000);
    const seen = new Map<string, number>();
    const expected = phase1.length + phase2.length + phase3.length;
    let settle: NodeJS.Timeout | undefined;
    try {
      for await (const ev of streamHubbleEvents({
        hubble: { ...HUBBLE, server: server.address },
        signal: ac.signal,
        resumeOverlapMs: 0,
        shard: { count: 2, index: 0, refreshMs: 200 },
        onShardNodes: (nodes) => {
          // n1 is asked for: while its catch-up is being sent, n2 joins.
          if (nodes.includes(n1!) && !nodes.includes(n2!)) setTimeout(() => server.append(phase3), 800);
        },
      })) {
        if (ev.kind !== 'flow') continue;
        seen.set(ev.flow.uuid!, (seen.get(ev.flow.uuid!) ?? 0) + 1);
        if (seen.size === phase1.length) setTimeout(() => server.append(phase2), 400);
        if (seen.size >= expected && settle === undefined) settle = setTimeout(() => ac.abort(), 300);
      }
    } finally {
      clearTimeout(deadline);
      if (settle) clearTimeout(settle);
    }
    const lostOf = (node: string) =>
      [...phase1, ...phase2, ...phase3].filter((e) => nodeOf(e) === node && e.kind === 'flow' && !seen.has(e.flow.uuid!)).length;
    expect({ old: lostOf(old!), n1: lostOf(n1!), n2: lostOf(n2!) }).toEqual({ old: 0, n1: 0, n2: 0 });
    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
  });
  it('says that sharding needs Hubble Relay when the server has no GetNodes (a Hubble server of one node)', async () => {
    // A server with ServerStatus and GetFlows, as a node's own Hubble server, and no GetNodes.
    const server = new grpc.Server();
    server.addService(OBSERVER_SERVICE, {
      ServerStatus: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, Buffer.from(encodeServerStatus({ version: 'one-node' }))),
      GetFlows: (call: grpc.ServerWritableStream<Buffer, Buffer>) => call.end(),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      const stream = streamHubbleEvents({
        hubble: { ...HUBBLE, server: `127.0.0.1:${port}` },
        shard: { count: 2, index: 0, refreshMs: 1000 },
      });
      await expect(stream.next()).rejects.toThrow(
        `HG_SHARD_COUNT is 2, and a shard asks Hubble Relay for its nodes (GetNodes), which 127.0.0.1:${port} does not implement (a Hubble server of one node?): point HUBBLE_SERVER at Hubble Relay, or set HG_SHARD_COUNT=1`,
      );
    } finally {
      server.forceShutdown();
    }
  });
});
