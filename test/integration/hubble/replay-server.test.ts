import fs from 'node:fs';
import path from 'node:path';
import type { Flow, HubbleEvent } from '../../../src/flows/flow';
import { type GetFlowsRequestJson, decodeGetFlowsResponse } from '../../../src/hubble/hubble-codec';
import { type ObserverClient, createObserverClient, streamHubbleEvents } from '../../../src/hubble/observer-client';
import { type ReplayServer, REPLAY_VERSION, startReplayServer } from '../../../src/hubble/replay-server';
import { timestampToNanos } from '../../../src/hubble/timestamps';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble');
const FILES = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => path.join(FIXTURES, f));
const TCP = path.join(FIXTURES, 'basic-sample-400-tcp-flows.json');

function fileFlows(files: string[]): Flow[] {
  return files.flatMap((f) =>
    fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l).flow as Flow),
  );
}

/** Runs one GetFlows call to its end and returns the flows (other events dropped). */
async function getFlows(
  client: ObserverClient,
  req: GetFlowsRequestJson,
  max = Infinity,
): Promise<{ flows: Flow[]; other: HubbleEvent[] }> {
  const call = client.getFlows(req);
  const flows: Flow[] = [];
  const other: HubbleEvent[] = [];
  try {
    for await (const bytes of call as AsyncIterable<Buffer>) {
      const ev = decodeGetFlowsResponse(bytes);
      if (ev?.kind === 'flow') flows.push(ev.flow);
      else if (ev) other.push(ev);
      if (flows.length >= max) break;
    }
  } finally {
    call.cancel();
  }
  return { flows, other };
}

const hubble = (server: ReplayServer) => ({ server: server.address, tls: false, reconnectMinMs: 20, reconnectMaxMs: 200 });

describe('replay server and gRPC client', () => {
  let server: ReplayServer | undefined;
  let client: ObserverClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.stop();
    server = undefined;
  });

  it('streams every fixture flow, identical to the files, to streamHubbleEvents', async () => {
    server = await startReplayServer({ files: FILES });
    const expected = fileFlows(FILES);
    const ac = new AbortController();
    const got: Flow[] = [];
    const statuses: unknown[] = [];
    let nodeStatus: HubbleEvent | undefined;
    for await (const ev of streamHubbleEvents({ hubble: hubble(server), signal: ac.signal, onServerStatus: (s) => statuses.push(s) })) {
      if (ev.kind === 'flow') got.push(ev.flow);
      else if (ev.kind === 'node_status') nodeStatus = ev;
      if (got.length === expected.length) ac.abort();
    }
    expect(got).toEqual(expected);
    expect(nodeStatus).toMatchObject({ kind: 'node_status', status: { state_change: 'NODE_CONNECTED' } });
    expect(statuses[0]).toMatchObject({ num_flows: String(expected.length), version: REPLAY_VERSION });
  });

  it('answers number, first, since and until as Hubble does', async () => {
    server = await startReplayServer({ files: [TCP] });
    client = createObserverClient({ server: server.address, tls: false });
    const all = fileFlows([TCP]);
    expect((await getFlows(client, {})).flows).toEqual(all); // no number, no follow: the whole buffer
    expect((await getFlows(client, { number: 20 })).flows).toEqual(all.slice(-20));
    expect((await getFlows(client, { number: 20, first: true })).flows).toEqual(all.slice(0, 20));
    const since = all[100]!.time!;
    const until = all[150]!.time!;
    const inRange = all.filter(
      (f) => timestampToNanos(f.time!) >= timestampToNanos(since) && timestampToNanos(f.time!) <= timestampToNanos(until),
    );
    expect(inRange.length).toBeGreaterThan(10);
    expect((await getFlows(client, { since, until })).flows).toEqual(inRange);
    expect((await getFlows(client, { since, number: 5 })).flows).toEqual(inRange.slice(0, 5));
    await expect(getFlows(client, { first: true, follow: true })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('first cannot be specified with follow'),
    });
  });

  it('applies whitelist and blacklist filters', async () => {
    server = await startReplayServer({ files: FILES });
    client = createObserverClient({ server: server.address, tls: false });
    const all = fileFlows(FILES);
    const fromBookinfo = all.filter((f) => f.source?.namespace === 'bookinfo');
    expect(fromBookinfo.length).toBeGreaterThan(0);
    expect((await getFlows(client, { whitelist: [{ source_pod: ['bookinfo/'] }] })).flows).toEqual(fromBookinfo);
    const redirected = all.filter((f) => f.verdict === 'REDIRECTED');
    expect((await getFlows(client, { whitelist: [{ verdict: ['REDIRECTED'] }] })).flows).toEqual(redirected);
    const udpNotDns = all.filter((f) => f.l4?.UDP && f.l4.UDP.destination_port !== 53 && f.l4.UDP.source_port !== 53);
    expect(
      (await getFlows(client, { whitelist: [{ protocol: ['udp'] }], blacklist: [{ destination_port: ['53'] }, { source_port: ['53'] }] }))
        .flows,
    ).toEqual(udpNotDns);
    const replies = all.filter((f) => f.is_reply === true);
    expect((await getFlows(client, { whitelist: [{ reply: [true] }] })).flows).toEqual(replies);
    const ingressOnNode = all.filter((f) => f.traffic_direction === 'INGRESS' && f.node_name === 'kind-control-plane');
    expect((await getFlows(client, { whitelist: [{ traffic_direction: ['INGRESS'], node_name: ['kind-control-plane'] }] })).flows).toEqual(
      ingressOnNode,
    );
    await expect(getFlows(client, { whitelist: [{ source_ip: ['not-an-ip'] }] })).rejects.toMatchObject({ code: 3 });
  });

  it('keeps a follow stream open, sends what append adds, and paces with rate', async () => {
    const flows = fileFlows([path.join(FIXTURES, 'basic-sample-5-http-flows.json')]);
    server = await startReplayServer({ events: flows.slice(0, 3).map((flow) => ({ kind: 'flow' as const, flow })), rate: 50 });
    client = createObserverClient({ server: server.address, tls: false });
    const started = Date.now();
    const pending = getFlows(client, { follow: true }, 5);
    setTimeout(() => server!.append(flows.slice(3).map((flow) => ({ kind: 'flow' as const, flow }))), 200);
    const { flows: got } = await pending;
    expect(got).toEqual(flows);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    // follow with number: the last N, then what comes
    expect((await getFlows(client, { follow: true, number: 2 }, 2)).flows).toEqual(flows.slice(-2));
  });

  it('loops with retime: each pass later, every flow with a uuid of its own', async () => {
    const flows = fileFlows([path.join(FIXTURES, 'basic-sample-5-dns-flows.json')]);
    const before = Date.now();
    server = await startReplayServer({ events: flows.map((flow) => ({ kind: 'flow' as const, flow })), loop: true, retime: true });
    client = createObserverClient({ server: server.address, tls: false });
    const { flows: got } = await getFlows(client, { follow: true }, 15);
    const times = got.map((f) => timestampToNanos(f.time!));
    expect(Number(times[0]! / 1_000_000n)).toBeGreaterThanOrEqual(before - 5);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
    expect(new Set(got.map((f) => f.uuid)).size).toBe(15);
    expect(got.map((f) => f.l7)).toEqual([...flows, ...flows, ...flows].map((f) => f.l7));
  });

  it('with a resume overlap, also recovers flows that arrive out of time order (as from Hubble Relay)', async () => {
    // Pairs of flows swapped in time: 0:01, 0:00, 0:03, 0:02, ... and no uuids.
    const base = fileFlows([TCP]).slice(0, 300);
    const recording: HubbleEvent[] = base.map((flow, i) => {
      const sec = i % 2 === 0 ? i + 1 : i - 1;
      return {
        kind: 'flow',
        flow: { ...flow, time: new Date(Date.UTC(2024, 2, 1, 10, 0, 0) + sec * 1000).toISOString().replace('.000Z', 'Z') },
      };
    });
    server = await startReplayServer({ events: recording, rate: 1000 });
    const port = server.port;
    const ac = new AbortController();
    const got: Flow[] = [];
    const consume = (async () => {
      for await (const ev of streamHubbleEvents({ hubble: hubble(server!), signal: ac.signal, resumeOverlapMs: 5000 })) {
        if (ev.kind !== 'flow') continue;
        got.push(ev.flow);
        if (got.length === recording.length) ac.abort();
      }
    })();
    while (got.length < 150) await new Promise((r) => setTimeout(r, 2));
    await server.stop();
    server = await startReplayServer({ events: recording, listen: `127.0.0.1:${port}`, rate: 1000 });
    const timeout = setTimeout(() => ac.abort(), 20_000);
    await consume;
    clearTimeout(timeout);
    const key = (f: Flow) => JSON.stringify(f);
    expect(got.map(key).sort()).toEqual(recording.map((e) => key((e as { flow: Flow }).flow)).sort());
  });

  it("gives up at once, with the server's reason, when Hubble refuses the request", async () => {
    server = await startReplayServer({ files: [TCP] });
    const errors: unknown[] = [];
    const run = async () => {
      for await (const ev of streamHubbleEvents({
        hubble: hubble(server!),
        whitelist: [{ source_ip: ['not-an-ip'] }],
        onConnectionError: (e) => errors.push(e),
      }))
        void ev;
    };
    await expect(run()).rejects.toMatchObject({ grpcCode: 3, message: expect.stringContaining('not-an-ip') });
    expect(errors).toEqual([]);
  });

  it('passes lost_events and node_status of the recording through to the client', async () => {
    const flow = fileFlows([path.join(FIXTURES, 'basic-sample-5-dns-flows.json')])[0]!;
    const recording: HubbleEvent[] = [
      { kind: 'lost_events', lost: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '42' }, nodeName: 'n1', time: '2024-01-01T00:00:00Z' },
      {
        kind: 'node_status',
        status: { state_change: 'NODE_UNAVAILABLE', node_names: ['n2'], message: 'gone' },
        time: '2024-01-01T00:00:01Z',
      },
      { kind: 'flow', flow, nodeName: flow.node_name },
    ];
    server = await startReplayServer({ events: recording, nodeStatus: false });
    const ac = new AbortController();
    const got: HubbleEvent[] = [];
    for await (const ev of streamHubbleEvents({ hubble: hubble(server), signal: ac.signal })) {
      got.push(ev);
      if (ev.kind === 'flow') ac.abort();
    }
    expect(got).toEqual(recording);
  });

  it('reports ServerStatus and GetNodes from the recording', async () => {
    server = await startReplayServer({ files: FILES });
    client = createObserverClient({ server: server.address, tls: false });
    const status = await client.serverStatus();
    expect(status).toMatchObject({
      num_flows: '838',
      max_flows: '838',
      seen_flows: '838',
      version: REPLAY_VERSION,
      num_connected_nodes: 3,
    });
    expect(BigInt(status.uptime_ns ?? '0')).toBeGreaterThan(0n);
    const nodes = await client.getNodes();
    expect(nodes.nodes?.map((n) => n.name)).toEqual([...new Set(fileFlows(FILES).map((f) => f.node_name!))].sort());
    expect(nodes.nodes?.[0]).toMatchObject({ state: 'NODE_CONNECTED', version: REPLAY_VERSION });
  });

  it('resumes after a server restart with no gap and no duplicate, also within flows of the same time', async () => {
    // 300 flows in groups of 3 that share a time and have no uuid, so the boundary needs the content key.
    const base = fileFlows([TCP]).slice(0, 300);
    const recording: HubbleEvent[] = base.map((flow, i) => ({
      kind: 'flow',
      flow: {
        ...flow,
        time: `2024-03-01T10:00:${String(Math.floor(i / 3) % 60).padStart(2, '0')}.${String(Math.floor(i / 180)).padStart(3, '0')}000000Z`,
        uuid: undefined,
      },
    }));
    // times must increase: group g -> second g%60, millisecond floor(g/60)
    recording.forEach((ev, i) => {
      const g = Math.floor(i / 3);
      (ev as { flow: Flow }).flow.time = `2024-03-01T10:${String(Math.floor(g / 60)).padStart(2, '0')}:${String(g % 60).padStart(2, '0')}Z`;
    });
    // The first server has only the first 131 flows, so the stream is open, waiting for more, when
    // it stops (a paced server could send everything in one burst after a stall of the machine).
    server = await startReplayServer({ events: recording.slice(0, 131), rate: 1000 });
    const port = server.port;
    const ac = new AbortController();
    const got: Flow[] = [];
    let errors = 0;
    const consume = (async () => {
      for await (const ev of streamHubbleEvents({ hubble: hubble(server!), signal: ac.signal, onConnectionError: () => errors++ })) {
        if (ev.kind !== 'flow') continue;
        got.push(ev.flow);
        if (got.length === recording.length) ac.abort();
      }
    })();
    // Stop in the middle of a same-time group, then start again on the same port.
    while (got.length < 131) await new Promise((r) => setTimeout(r, 2));
    await server.stop();
    server = await startReplayServer({ events: recording, listen: `127.0.0.1:${port}`, rate: 1000 });
    const timeout = setTimeout(() => ac.abort(), 20_000);
    await consume;
    clearTimeout(timeout);
    expect(errors).toBeGreaterThanOrEqual(1);
    expect(got).toEqual(recording.map((e) => (e as { flow: Flow }).flow));
  });
});
