import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type ReplayServer, REPLAY_VERSION, startReplayServer } from '../../../src/hubble/replay-server';
import { formatTimestamp } from '../../../src/hubble/timestamps';

// A Hubble client that is not ours: @grpc/proto-loader builds the service from the .proto files and
// grpc-js decodes every message with protobufjs' own machinery (no hubble-graph codec involved).
const PROTO_DIR = path.resolve(__dirname, '..', '..', '..', 'proto');
const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble');
const FILES = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => path.join(FIXTURES, f));

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function loadObserver(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync('observer/observer.proto', {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as Any;
  return pkg.observer.Observer as grpc.ServiceClientConstructor;
}

/** proto-loader's object -> the jsonpb shape, for comparison with the fixture lines. */
function toJsonpb(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(toJsonpb);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Any;
  const keys = Object.keys(o);
  if (keys.length <= 2 && 'seconds' in o && typeof o.seconds === 'string') return formatTimestamp(Number(o.seconds), o.nanos ?? 0);
  if (keys.length === 1 && 'value' in o) return o.value;
  const out: Any = {};
  for (const k of keys) {
    // oneofs: true adds the name of the set member under the oneof's name (response_types, protocol, record)
    if (['response_types', 'protocol', 'record'].includes(k) && typeof o[k] === 'string' && o[o[k]] !== undefined) continue;
    const x = toJsonpb(o[k]);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

describe('an independent gRPC client (proto-loader + grpc-js)', () => {
  let server: ReplayServer;
  let client: grpc.Client & Any;
  beforeAll(async () => {
    server = await startReplayServer({ files: FILES, nodeStatus: false });
    const Observer = loadObserver();
    client = new Observer(server.address, grpc.credentials.createInsecure()) as grpc.Client & Any;
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  const unary = (method: string) =>
    new Promise<Any>((resolve, reject) => client[method]({}, (err: Error | null, res: Any) => (err ? reject(err) : resolve(res))));

  it('reads ServerStatus', async () => {
    const status = await unary('ServerStatus');
    expect(status).toMatchObject({ num_flows: '838', seen_flows: '838', version: REPLAY_VERSION, num_connected_nodes: { value: 3 } });
  });

  it('reads GetNodes', async () => {
    const res = await unary('GetNodes');
    expect(res.nodes.map((n: Any) => n.name)).toContain('kind-control-plane');
    expect(res.nodes[0]).toMatchObject({ state: 'NODE_CONNECTED', version: REPLAY_VERSION });
  });

  it('reads GetFlows and gets exactly the recorded responses', async () => {
    const lines = FILES.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean)).map((l) => JSON.parse(l));
    const got: Any[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.GetFlows({ number: 0 });
      call.on('data', (msg: Any) => got.push(msg));
      call.on('end', resolve);
      call.on('error', reject);
    });
    expect(got).toHaveLength(lines.length);
    expect(got[0]!.response_types).toBe('flow');
    expect(got.map(toJsonpb)).toEqual(lines);
  });
});
