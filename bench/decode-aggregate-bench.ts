import type { Flow } from '../src/flows/flow';
import { EdgeAggregator } from '../src/flows/edge-aggregator';
import { decodeGetFlowsResponse, encodeHubbleEvent, eventToResponseJson, hubbleTypes, responseToEvent } from '../src/hubble/hubble-codec';
import { formatTimestamp } from '../src/hubble/timestamps';
import { FLOW_MIXES, type NarrowMix, generateFlows } from '../src/generator/generate-flows';
import { nowMs, round } from './bench-stats';

/**
 * Part 1: the ceiling of one core: protobuf GetFlowsResponse bytes -> Flow -> EdgeAggregator, with
 * drains as the collector does them (every 20000 dirty edges, HG_FLUSH_MAX_EDGES' default). Baselines
 * on the same flows: JSON.parse of the `hubble observe -o jsonpb` line, and protobufjs' generic
 * decode + toObject (the obvious way to use protobufjs). Mixes of the project's generator
 * (src/generator): L4 only, half the edges with HTTP, a third with DNS, and its realistic mix.
 */
/** The generator's three narrowed mixes, and `generated`: its realistic mix. */
export type DecodeMix = NarrowMix | 'generated';

export interface DecodeAggregateMixResult {
  mix: DecodeMix;
  flows: number;
  edges: number;
  /** Best of the repeats, flows per second. */
  fastFlowsPerSec: number;
  jsonFlowsPerSec: number;
  protobufjsFlowsPerSec: number;
  /** Decoding alone (no aggregation), best of the repeats: where the time goes. */
  decodeOnly: { fast: number; json: number; protobufjs: number };
  /** Every repeat, for the raw results. */
  runs: { fast: number[]; json: number[]; protobufjs: number[] };
  /** Average encoded GetFlowsResponse size (bytes) and JSON line size (chars). */
  avgProtoBytes: number;
  avgJsonChars: number;
}

const DRAIN_EVERY_DIRTY = 20_000;

function decodeAll<T>(items: readonly T[], toFlow: (item: T) => Flow | undefined): number {
  let n = 0;
  const t0 = nowMs();
  for (let i = 0; i < items.length; i++) if (toFlow(items[i]!) !== undefined) n++;
  if (n !== items.length) throw new Error(`decoded ${n} of ${items.length} flows`);
  return items.length / ((nowMs() - t0) / 1000);
}

function aggregateAll<T>(items: readonly T[], toFlow: (item: T) => Flow | undefined): number {
  const agg = new EdgeAggregator();
  const t0 = nowMs();
  for (let i = 0; i < items.length; i++) {
    const flow = toFlow(items[i]!);
    if (flow !== undefined) agg.add(flow);
    if ((i & 255) === 0 && agg.dirtyEdges >= DRAIN_EVERY_DIRTY) agg.drain();
  }
  agg.drain();
  return items.length / ((nowMs() - t0) / 1000);
}

/** protobufjs' generic path: decode to a message instance, toObject, then fix the two well-known types. */
function genericDecode(bytes: Uint8Array): Flow | undefined {
  const { GetFlowsResponse } = hubbleTypes();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const o = GetFlowsResponse.toObject(GetFlowsResponse.decode(bytes), { enums: String, longs: String }) as any;
  const f = o.flow;
  if (!f) return undefined;
  if (f.time) f.time = formatTimestamp(Number(f.time.seconds), f.time.nanos ?? 0);
  if (f.is_reply) f.is_reply = f.is_reply.value;
  return f as Flow;
}

export function runDecodeAggregate(options: {
  flows: number;
  edges: number;
  repeats: number;
  log: (msg: string) => void;
}): DecodeAggregateMixResult[] {
  const results: DecodeAggregateMixResult[] = [];
  const mixes: DecodeMix[] = [...FLOW_MIXES, 'generated'];
  for (const mix of mixes) {
    const pods = Math.max(50, Math.round(options.edges / 12));
    const flows: Flow[] = [
      ...generateFlows({ pods, edges: options.edges, flows: options.flows, seed: 7, mix: mix === 'generated' ? 'realistic' : mix }),
    ].map((r) => r.flow);
    const encoded = flows.map((flow) => encodeHubbleEvent({ kind: 'flow', flow }));
    const lines = flows.map((flow) => JSON.stringify(eventToResponseJson({ kind: 'flow', flow })));
    const edges = new EdgeAggregator();
    for (const f of flows) edges.add(f);
    const distinctEdges = edges.dirtyEdges;
    flows.length = 0;
    const runs = { fast: [] as number[], json: [] as number[], protobufjs: [] as number[] };
    const decodeOnly = { fast: 0, json: 0, protobufjs: 0 };
    const fastDecode = (b: Uint8Array) => {
      const ev = decodeGetFlowsResponse(b);
      return ev?.kind === 'flow' ? ev.flow : undefined;
    };
    const jsonDecode = (line: string) => {
      const ev = responseToEvent(JSON.parse(line));
      return ev?.kind === 'flow' ? ev.flow : undefined;
    };
    // One warm-up pass each, then the measured repeats, interleaved so that load from other
    // processes affects all three alike.
    for (let r = 0; r <= options.repeats; r++) {
      const fast = aggregateAll(encoded, fastDecode);
      const json = aggregateAll(lines, jsonDecode);
      const generic = aggregateAll(encoded, genericDecode);
      const onlyFast = decodeAll(encoded, fastDecode);
      const onlyJson = decodeAll(lines, jsonDecode);
      const onlyGeneric = decodeAll(encoded, genericDecode);
      if (r === 0) continue;
      decodeOnly.fast = Math.max(decodeOnly.fast, round(onlyFast, 0));
      decodeOnly.json = Math.max(decodeOnly.json, round(onlyJson, 0));
      decodeOnly.protobufjs = Math.max(decodeOnly.protobufjs, round(onlyGeneric, 0));
      runs.fast.push(round(fast, 0));
      runs.json.push(round(json, 0));
      runs.protobufjs.push(round(generic, 0));
    }
    const res: DecodeAggregateMixResult = {
      mix,
      flows: options.flows,
      edges: distinctEdges,
      fastFlowsPerSec: Math.max(...runs.fast),
      jsonFlowsPerSec: Math.max(...runs.json),
      protobufjsFlowsPerSec: Math.max(...runs.protobufjs),
      decodeOnly,
      runs,
      avgProtoBytes: round(encoded.reduce((n, b) => n + b.length, 0) / encoded.length, 1),
      avgJsonChars: round(lines.reduce((n, l) => n + l.length, 0) / lines.length, 1),
    };
    options.log(
      `decode+aggregate ${mix}: ${res.fastFlowsPerSec} flows/s (JSON ${res.jsonFlowsPerSec}, protobufjs generic ${res.protobufjsFlowsPerSec}); ` +
        `decode alone ${decodeOnly.fast} (JSON ${decodeOnly.json}, protobufjs generic ${decodeOnly.protobufjs})`,
    );
    results.push(res);
  }
  return results;
}
