import path from 'node:path';
import type { Flow } from '../src/flows/flow';
import { EdgeAggregator } from '../src/flows/edge-aggregator';
import { decodeGetFlowsResponse, encodeHubbleEvent, eventToResponseJson, hubbleTypes, responseToEvent } from '../src/hubble/hubble-codec';
import { formatTimestamp } from '../src/hubble/timestamps';
import { FLOW_MIXES, type NarrowMix, generateFlows } from '../src/generator/generate-flows';
import { nowMs, round } from './bench-stats';
import { jsonLine, startNodeChild } from './child-process';
import { portScanFlows } from './port-scan-flows';

/**
 * Part 1: the ceiling of one core: protobuf GetFlowsResponse bytes -> Flow -> EdgeAggregator, with
 * drains as the collector does them (every 20000 dirty edges, HG_FLUSH_MAX_EDGES' default). Baselines
 * on the same flows: JSON.parse of the `hubble observe -o jsonpb` line, and protobufjs' generic
 * decode + toObject (the obvious way to use protobufjs). Mixes of the project's generator
 * (src/generator): L4 only, half the edges with HTTP, a third with DNS, and its realistic mix; and a
 * port scan (bench/port-scan-flows.ts). Each mix and way runs in a process of its own
 * (runDecodeAggregate).
 */
/** The generator's three narrowed mixes, `generated`: its realistic mix, and `scan`: portScanFlows. */
export type DecodeMix = NarrowMix | 'generated' | 'scan';

export const DECODE_MIXES: readonly DecodeMix[] = [...FLOW_MIXES, 'generated', 'scan'];

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

/** The three ways of turning what Hubble sends into a Flow that the part compares. */
export type DecodeVariant = 'fast' | 'json' | 'protobufjs';

const VARIANTS: readonly DecodeVariant[] = ['fast', 'json', 'protobufjs'];

/** What one variant's process measured (bench/decode-child.ts prints it). */
export interface DecodeVariantResult {
  variant: DecodeVariant;
  edges: number;
  /** Decode + aggregate, every measured pass, flows per second. */
  aggregate: number[];
  /** Decoding alone, every measured pass. */
  decode: number[];
  /** Average input size: encoded GetFlowsResponse bytes, or JSON line characters. */
  avgInputSize: number;
}

/**
 * Measures one variant on one mix in this process: one warm-up pass, then `repeats` passes of
 * decode + aggregate and of decoding alone, alternating. Only this variant's objects reach the
 * aggregator, as in a collector, which reads one kind of input.
 */
export function measureDecodeVariant(o: {
  mix: DecodeMix;
  variant: DecodeVariant;
  flows: number;
  edges: number;
  repeats: number;
}): DecodeVariantResult {
  const pods = Math.max(50, Math.round(o.edges / 12));
  const flows: Flow[] =
    o.mix === 'scan'
      ? portScanFlows(o.flows)
      : [...generateFlows({ pods, edges: o.edges, flows: o.flows, seed: 7, mix: o.mix === 'generated' ? 'realistic' : o.mix })].map(
          (r) => r.flow,
        );
  // Counted in an aggregator of its own, let go before the measured passes (its heap would slow their GCs).
  const edges = ((): number => {
    const all = new EdgeAggregator();
    for (const f of flows) all.add(f);
    return all.dirtyEdges;
  })();
  const fastDecode = (b: Uint8Array) => {
    const ev = decodeGetFlowsResponse(b);
    return ev?.kind === 'flow' ? ev.flow : undefined;
  };
  const jsonDecode = (line: string) => {
    const ev = responseToEvent(JSON.parse(line));
    return ev?.kind === 'flow' ? ev.flow : undefined;
  };
  const measure = <T>(items: T[], toFlow: (item: T) => Flow | undefined, size: (item: T) => number): DecodeVariantResult => {
    flows.length = 0;
    const result: DecodeVariantResult = { variant: o.variant, edges, aggregate: [], decode: [], avgInputSize: 0 };
    result.avgInputSize = round(items.reduce((n, item) => n + size(item), 0) / items.length, 1);
    for (let r = 0; r <= o.repeats; r++) {
      const aggregate = aggregateAll(items, toFlow);
      const decode = decodeAll(items, toFlow);
      if (r === 0) continue;
      result.aggregate.push(round(aggregate, 0));
      result.decode.push(round(decode, 0));
    }
    return result;
  };
  if (o.variant === 'json') {
    const lines = flows.map((flow) => JSON.stringify(eventToResponseJson({ kind: 'flow', flow })));
    return measure(lines, jsonDecode, (l) => l.length);
  }
  const encoded = flows.map((flow) => encodeHubbleEvent({ kind: 'flow', flow }));
  return measure(encoded, o.variant === 'fast' ? fastDecode : genericDecode, (b) => b.length);
}

/**
 * Runs every mix and variant, each in a process of its own (bench/decode-child.ts): in one process
 * the aggregator's property reads saw the objects of all three decoders, each of another shape, and
 * ran slower for each of them than in a collector, which only ever sees one (measured 2026-12-04:
 * the fast decoder's HTTP figure 12% lower after the JSON variant had run in the same process, DNS
 * 24%).
 */
export async function runDecodeAggregate(options: {
  flows: number;
  edges: number;
  repeats: number;
  log: (msg: string) => void;
}): Promise<DecodeAggregateMixResult[]> {
  const results: DecodeAggregateMixResult[] = [];
  for (const mix of DECODE_MIXES) {
    const byVariant = new Map<DecodeVariant, DecodeVariantResult>();
    for (const variant of VARIANTS) {
      const { handle, value } = await startNodeChild(
        [path.join(__dirname, 'decode-child.js'), mix, variant, String(options.flows), String(options.edges), String(options.repeats)],
        process.env,
        (line) => jsonLine<DecodeVariantResult>(line),
        600_000,
      );
      await handle.stop(5000);
      byVariant.set(variant, value);
    }
    const of = (v: DecodeVariant) => byVariant.get(v) as DecodeVariantResult;
    const best = (runs: number[]) => Math.max(...runs);
    const res: DecodeAggregateMixResult = {
      mix,
      flows: options.flows,
      edges: of('fast').edges,
      fastFlowsPerSec: best(of('fast').aggregate),
      jsonFlowsPerSec: best(of('json').aggregate),
      protobufjsFlowsPerSec: best(of('protobufjs').aggregate),
      decodeOnly: { fast: best(of('fast').decode), json: best(of('json').decode), protobufjs: best(of('protobufjs').decode) },
      runs: { fast: of('fast').aggregate, json: of('json').aggregate, protobufjs: of('protobufjs').aggregate },
      avgProtoBytes: of('fast').avgInputSize,
      avgJsonChars: of('json').avgInputSize,
    };
    options.log(
      `decode+aggregate ${mix}: ${res.fastFlowsPerSec} flows/s (JSON ${res.jsonFlowsPerSec}, protobufjs generic ${res.protobufjsFlowsPerSec}); ` +
        `decode alone ${res.decodeOnly.fast} (JSON ${res.decodeOnly.json}, protobufjs generic ${res.decodeOnly.protobufjs})`,
    );
    results.push(res);
  }
  return results;
}
