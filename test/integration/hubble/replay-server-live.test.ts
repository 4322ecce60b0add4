import pino from 'pino';
import type { Flow, HubbleEvent } from '../../../src/flows/flow';
import { formatFlowTime } from '../../../src/flows/flow-time';
import { decodeGetFlowsResponse, type GetFlowsRequestJson } from '../../../src/hubble/hubble-codec';
import { type ObserverClient, createObserverClient } from '../../../src/hubble/observer-client';
import { type ReplayServer, startReplayServer } from '../../../src/hubble/replay-server';

/** `count` flows (default: without end), one every `stepMs` from `startMs`, numbered in their uuid's last group. */
function* ticking(startMs: number, stepMs: number, count = Infinity): Generator<HubbleEvent> {
  for (let i = 0; i < count; i++) {
    const flow: Flow = {
      time: formatFlowTime(startMs + i * stepMs),
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      verdict: 'FORWARDED',
      IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 40000, destination_port: 80 } },
      source: { identity: 1000, namespace: 'a', pod_name: 'client' },
      destination: { identity: 1001, namespace: 'a', pod_name: 'server' },
      node_name: 'worker-1',
    };
    yield { kind: 'flow', flow, nodeName: 'worker-1' };
  }
}

async function read(
  client: ObserverClient,
  req: GetFlowsRequestJson,
  until: (flows: Flow[]) => boolean,
  timeoutMs = 10_000,
): Promise<{ flows: Flow[]; receivedAtMs: number[] }> {
  const call = client.getFlows(req);
  const flows: Flow[] = [];
  const receivedAtMs: number[] = [];
  const timer = setTimeout(() => call.cancel(), timeoutMs);
  try {
    for await (const bytes of call as AsyncIterable<Buffer>) {
      const ev = decodeGetFlowsResponse(bytes);
      if (ev?.kind !== 'flow') continue;
      flows.push(ev.flow);
      receivedAtMs.push(Date.now());
      if (until(flows)) break;
    }
  } catch {
    // cancelled at the timeout
  } finally {
    clearTimeout(timer);
    call.cancel();
  }
  return { flows, receivedAtMs };
}

describe('live replay server', () => {
  let server: ReplayServer | undefined;
  let client: ObserverClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.stop();
    server = client = undefined;
  });

  it('serves each event when its flow time comes, never before, to a follower', async () => {
    const startMs = Date.now();
    server = await startReplayServer({ live: ticking(startMs, 20) });
    client = createObserverClient({ server: server.address, tls: false });
    const { flows, receivedAtMs } = await read(client, { follow: true }, (f) => f.length >= 100);
    expect(flows.length).toBe(100);
    flows.forEach((f, i) => {
      const due = Date.parse(f.time!);
      // Never early; late only by the server's tick and this loaded machine (generous).
      expect(receivedAtMs[i]).toBeGreaterThanOrEqual(due - 5);
      expect(receivedAtMs[i]! - due).toBeLessThan(3000);
    });
    expect(flows.map((f) => f.uuid)).toEqual(flows.map((_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
  });

  it('says in its start log line that it serves a live cluster, not what a recording holds', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    // Three events already due, the rest to come.
    server = await startReplayServer({ live: ticking(Date.now() - 30, 10), bufferSize: 1000, log });
    const started = lines.find((l) => l.msg === 'replay server listening');
    expect(started).toMatchObject({ address: server.address, live: true, bufferSize: 1000, tls: false });
    expect(started!.due).toBeGreaterThanOrEqual(3);
    // A recording's fields would describe the first few due events as if they were all it serves.
    for (const field of ['events', 'flows', 'nodes', 'loop', 'rate', 'retime', 'first', 'last']) expect(started).not.toHaveProperty(field);
  });

  it("keeps the last bufferSize events for requests that look back, as Hubble's ring buffer does", async () => {
    const startMs = Date.now() - 10_000;
    // 10 s of flows at 1 ms are due at once: 10,000 of them, of which 500 are kept.
    server = await startReplayServer({ live: ticking(startMs, 1, 10_000), bufferSize: 500 });
    client = createObserverClient({ server: server.address, tls: false });
    const last = await read(client, { number: 5 }, () => false);
    expect(last.flows).toHaveLength(5);
    const all = await read(client, {}, () => false);
    expect(all.flows.length).toBeGreaterThanOrEqual(500);
    expect(all.flows.length).toBeLessThanOrEqual(625);
    // The newest are kept, the first 9,375 and more forgotten.
    expect(Number(all.flows[0]!.uuid!.slice(-12))).toBeGreaterThanOrEqual(9375);
    expect(Number(all.flows[all.flows.length - 1]!.uuid!.slice(-12))).toBe(9999);
    expect(all.flows[all.flows.length - 1]!.uuid).toBe(last.flows[4]!.uuid);
  });

  it('refuses a live source together with a recording, loop, retime or rate, naming them', async () => {
    await expect(startReplayServer({ live: ticking(Date.now(), 1), loop: true, rate: 10 })).rejects.toThrow(
      /live replay server .*no events, files, loop, retime or rate/,
    );
  });
});
