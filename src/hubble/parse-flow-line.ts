import protobuf from 'protobufjs';
import type { Flow, HubbleEvent, LostEvent, NodeStatusEvent } from '../flows/flow';
import { hubbleTypes } from './hubble-codec';
import { formatTimestamp } from './timestamps';

/** Why a line was skipped. */
export type SkipReason = 'malformed_json' | 'not_a_flow' | 'invalid_field';

/**
 * One line of a flow file: an event (null for blank lines and for event kinds hubble-graph does not
 * use, such as exporter `agent_event` / `debug_event` lines), or why the line was skipped.
 */
export type ParsedLine = { ok: true; event: HubbleEvent | null } | { ok: false; reason: SkipReason; message: string };

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const IGNORED_KINDS = ['agent_event', 'agentEvent', 'debug_event', 'debugEvent'];

/** Keys that only a bare Flow line (legacy `hubble observe -o json`) has at the top level. */
const FLOW_KEYS = ['verdict', 'source', 'destination', 'IP', 'l4', 'Type', 'l7', 'uuid', 'event_type', 'eventType', 'Summary'];

/**
 * Parses one line of `hubble observe -o jsonpb` output (a GetFlowsResponse), of a Hubble exporter
 * file (an ExportEvent: same field names) or a bare Flow (legacy `-o json`), into a HubbleEvent in
 * the Flow shape of src/flows/flow.ts. Also accepts protojson's lowerCamelCase field names
 * (`isReply`, `trafficDirection`, `nodeName`, ...), enums given as numbers and timestamps given as
 * `{seconds, nanos}`, normalizing them. Pure; never throws.
 */
export function parseFlowLine(line: string): ParsedLine {
  const text = line.trim();
  if (text === '') return { ok: true, event: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'malformed_json', message: `not valid JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not_a_flow', message: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  }
  let obj = value as Obj;
  // Field names in lowerCamelCase are rare (protojson without UseProtoNames); only then pay for a rename.
  if (CAMEL_KEY.test(text)) obj = renameCamelKeys(obj) as Obj;
  try {
    return parseObject(obj);
  } catch (err) {
    return { ok: false, reason: 'invalid_field', message: (err as Error).message };
  }
}

function parseObject(obj: Obj): ParsedLine {
  const nodeName = typeof obj.node_name === 'string' ? obj.node_name : undefined;
  const time = obj.time === undefined ? undefined : toTime(obj.time, 'time');
  if (obj.flow !== undefined) {
    if (obj.flow === null || typeof obj.flow !== 'object' || Array.isArray(obj.flow)) {
      return { ok: false, reason: 'invalid_field', message: `"flow" must be an object, got ${JSON.stringify(obj.flow)?.slice(0, 60)}` };
    }
    const flow = normalizeFlow(obj.flow as Obj);
    return { ok: true, event: nodeName !== undefined ? { kind: 'flow', flow, nodeName } : { kind: 'flow', flow } };
  }
  if (obj.node_status !== undefined) {
    const status = normalizeEnums(obj.node_status, 'relay.NodeStatusEvent') as NodeStatusEvent;
    const event: HubbleEvent = { kind: 'node_status', status };
    if (nodeName !== undefined) event.nodeName = nodeName;
    if (time !== undefined) event.time = time;
    return { ok: true, event };
  }
  if (obj.lost_events !== undefined) {
    const lost = normalizeEnums(obj.lost_events, 'flow.LostEvent') as LostEvent & { cpu?: unknown };
    if (lost.cpu !== null && typeof lost.cpu === 'object') lost.cpu = (lost.cpu as { value?: number }).value ?? 0;
    if (typeof lost.num_events_lost === 'number') lost.num_events_lost = String(lost.num_events_lost);
    const event: HubbleEvent = { kind: 'lost_events', lost: lost as LostEvent };
    if (nodeName !== undefined) event.nodeName = nodeName;
    if (time !== undefined) event.time = time;
    return { ok: true, event };
  }
  for (const k of IGNORED_KINDS) if (obj[k] !== undefined) return { ok: true, event: null };
  if (FLOW_KEYS.some((k) => obj[k] !== undefined)) {
    const flow = normalizeFlow(obj);
    return { ok: true, event: flow.node_name !== undefined ? { kind: 'flow', flow, nodeName: flow.node_name } : { kind: 'flow', flow } };
  }
  const keys = Object.keys(obj).slice(0, 5).join(', ');
  return { ok: false, reason: 'not_a_flow', message: `neither a GetFlowsResponse, an ExportEvent nor a Flow (keys: ${keys || 'none'})` };
}

/** Time as RFC 3339; legacy encoding/json wrote Timestamp as {seconds, nanos}. */
function toTime(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') {
    const t = v as { seconds?: number | string; nanos?: number };
    return formatTimestamp(Number(t.seconds ?? 0), Number(t.nanos ?? 0));
  }
  throw new Error(`"${field}" must be an RFC 3339 string, got ${JSON.stringify(v)}`);
}

function normalizeFlow(f: Obj): Flow {
  if (f.time !== undefined) f.time = toTime(f.time, 'flow.time');
  const r = f.is_reply;
  if (r !== undefined && typeof r !== 'boolean') {
    // Legacy encoding/json of google.protobuf.BoolValue: {"value": true}; {} is false.
    if (r === null) delete f.is_reply;
    else if (typeof r === 'object') f.is_reply = (r as { value?: unknown }).value === true;
    else throw new Error(`"is_reply" must be a boolean, got ${JSON.stringify(r)}`);
  }
  // Go's encoding/json (very old `-o json`) wrote oneofs under the Go field name: l4.Protocol.TCP, l7.Record.Http.
  if (f.l4?.Protocol !== null && typeof f.l4?.Protocol === 'object') f.l4 = f.l4.Protocol;
  if (f.l7?.Record !== null && typeof f.l7?.Record === 'object') {
    const record = f.l7.Record as Obj;
    delete f.l7.Record;
    for (const [k, v] of Object.entries(record)) f.l7[k.toLowerCase()] = v;
  }
  if (f.l7?.latency_ns !== undefined && typeof f.l7.latency_ns === 'number') f.l7.latency_ns = String(f.l7.latency_ns);
  if (pickEnums(f).some((v) => typeof v === 'number')) normalizeEnums(f, 'flow.Flow');
  return f as Flow;
}

// The enum-valued fields of a Flow that a legacy writer may have written as numbers.
function pickEnums(f: Obj): unknown[] {
  return [f.verdict, f.Type, f.traffic_direction, f.trace_observation_point, f.drop_reason_desc, f.IP?.ipVersion, f.l7?.type];
}

/** Replaces enum numbers by their names, walking the message type's fields. */
function normalizeEnums(value: unknown, typeName: string): unknown {
  if (value === null || typeof value !== 'object') return value;
  const type = hubbleTypes().root.lookupType(typeName);
  const obj = value as Obj;
  for (const field of type.fieldsArray) {
    const v = obj[field.name];
    if (v === undefined) continue;
    const rt = field.resolve().resolvedType;
    if (rt instanceof protobuf.Enum) {
      if (typeof v === 'number') obj[field.name] = rt.valuesById[v] ?? v;
      else if (Array.isArray(v)) obj[field.name] = v.map((x) => (typeof x === 'number' ? (rt.valuesById[x] ?? x) : x));
    } else if (rt instanceof protobuf.Type && !rt.fullName.startsWith('.google.protobuf.')) {
      if (Array.isArray(v)) v.forEach((x) => normalizeEnums(x, rt.fullName.slice(1)));
      else normalizeEnums(v, rt.fullName.slice(1));
    }
  }
  return obj;
}

// A JSON key in lowerCamelCase other than `ipVersion` (which is a proto name itself).
const CAMEL_KEY = /"(?!ipVersion")[a-z][a-z0-9]*[A-Z]\w*"\s*:/;

let camelToProto: Map<string, string> | undefined;

/** lowerCamelCase JSON name -> proto field name, for every field of our protos. */
function camelNames(): Map<string, string> {
  if (camelToProto) return camelToProto;
  const map = new Map<string, string>();
  const protoNames = new Set<string>();
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        for (const field of nested.fieldsArray) {
          protoNames.add(field.name);
          const camel = protobuf.util.camelCase(field.name);
          if (camel !== field.name) map.set(camel, field.name);
        }
      }
      if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(hubbleTypes().root);
  // A name that is a proto field name somewhere stays as it is (Flow.IP.ipVersion, not ip_version).
  for (const name of protoNames) map.delete(name);
  camelToProto = map;
  return map;
}

function renameCamelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renameCamelKeys);
  if (value === null || typeof value !== 'object') return value;
  const names = camelNames();
  const out: Obj = {};
  for (const [k, v] of Object.entries(value as Obj)) out[names.get(k) ?? k] = renameCamelKeys(v);
  return out;
}
