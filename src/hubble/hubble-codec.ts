import path from 'node:path';
import protobuf from 'protobufjs';
import { PROJECT_ROOT } from '../config';
import { fastDecode } from './fast-decoder';
import { toTimestampMsg } from './timestamps';
import type { Flow, HubbleEvent, LostEvent, NodeStatusEvent } from '../flows/flow';

/** Folder of our .proto subset (`proto/` at the project root; shipped in the npm package). */
export const PROTO_DIR = path.join(PROJECT_ROOT, 'proto');

/** Proto files, relative to PROTO_DIR, that define observer.Observer and everything it uses. */
export const PROTO_FILES = ['observer/observer.proto'] as const;

/**
 * A `GetFlowsResponse` (or exporter `ExportEvent`) in the JSON shape `hubble observe -o jsonpb`
 * prints: proto field names, enums as names, 64-bit integers as strings, timestamps as RFC 3339.
 */
export interface GetFlowsResponseJson {
  flow?: Flow;
  node_status?: NodeStatusEvent;
  lost_events?: LostEvent;
  node_name?: string;
  time?: string;
}

/** jsonpb-shaped `GetFlowsRequest` (what a client asks for). */
export interface GetFlowsRequestJson {
  number?: string | number;
  first?: boolean;
  follow?: boolean;
  blacklist?: FlowFilterJson[];
  whitelist?: FlowFilterJson[];
  /** RFC 3339. */
  since?: string;
  /** RFC 3339. */
  until?: string;
}

/** jsonpb-shaped `flow.FlowFilter`: every set field must match, values within a field are alternatives. */
export interface FlowFilterJson {
  uuid?: string[];
  source_ip?: string[];
  source_pod?: string[];
  source_fqdn?: string[];
  source_label?: string[];
  source_service?: string[];
  source_workload?: Array<{ name?: string; kind?: string }>;
  destination_ip?: string[];
  destination_pod?: string[];
  destination_fqdn?: string[];
  destination_label?: string[];
  destination_service?: string[];
  destination_workload?: Array<{ name?: string; kind?: string }>;
  traffic_direction?: string[];
  verdict?: string[];
  event_type?: Array<{ type?: number; match_sub_type?: boolean; sub_type?: number }>;
  http_status_code?: string[];
  protocol?: string[];
  source_port?: string[];
  destination_port?: string[];
  reply?: boolean[];
  dns_query?: string[];
  source_identity?: number[];
  destination_identity?: number[];
  http_method?: string[];
  http_path?: string[];
  tcp_flags?: Array<Record<string, boolean>>;
  node_name?: string[];
  ip_version?: string[];
  trace_id?: string[];
}

export interface ServerStatusJson {
  num_flows?: string;
  max_flows?: string;
  seen_flows?: string;
  uptime_ns?: string;
  num_connected_nodes?: number;
  num_unavailable_nodes?: number;
  unavailable_nodes?: string[];
  version?: string;
  flows_rate?: number;
}

export interface NodeJson {
  name?: string;
  version?: string;
  address?: string;
  state?: string;
  tls?: { enabled?: boolean; server_name?: string };
  uptime_ns?: string;
  num_flows?: string;
  max_flows?: string;
  seen_flows?: string;
}

export interface GetNodesResponseJson {
  nodes?: NodeJson[];
}

/** The message types of observer.proto, loaded once. */
export interface HubbleTypes {
  readonly root: protobuf.Root;
  readonly GetFlowsRequest: protobuf.Type;
  readonly GetFlowsResponse: protobuf.Type;
  readonly ServerStatusRequest: protobuf.Type;
  readonly ServerStatusResponse: protobuf.Type;
  readonly GetNodesRequest: protobuf.Type;
  readonly GetNodesResponse: protobuf.Type;
  readonly Flow: protobuf.Type;
}

let types: HubbleTypes | undefined;

/** Loads the protos (keepCase: proto field names, as jsonpb prints them) on first use. */
export function hubbleTypes(): HubbleTypes {
  if (types) return types;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync([...PROTO_FILES], { keepCase: true });
  root.resolveAll();
  const t = (name: string) => root.lookupType(name);
  types = {
    root,
    GetFlowsRequest: t('observer.GetFlowsRequest'),
    GetFlowsResponse: t('observer.GetFlowsResponse'),
    ServerStatusRequest: t('observer.ServerStatusRequest'),
    ServerStatusResponse: t('observer.ServerStatusResponse'),
    GetNodesRequest: t('observer.GetNodesRequest'),
    GetNodesResponse: t('observer.GetNodesResponse'),
    Flow: t('flow.Flow'),
  };
  return types;
}

// ---- Decode --------------------------------------------------------------------------------------

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Decodes one `GetFlowsResponse` message into a HubbleEvent in the Flow shape of src/flows/flow.ts,
 * or null for a response without a flow, node status or lost-events report.
 */
export function decodeGetFlowsResponse(bytes: Uint8Array): HubbleEvent | null {
  return responseToEvent(decodeGetFlowsResponseJson(bytes));
}

/** The HubbleEvent of a jsonpb-shaped GetFlowsResponse / ExportEvent; null when it holds none of ours. */
export function responseToEvent(msg: GetFlowsResponseJson): HubbleEvent | null {
  const nodeName = msg.node_name;
  if (msg.flow) {
    return nodeName !== undefined ? { kind: 'flow', flow: msg.flow, nodeName } : { kind: 'flow', flow: msg.flow };
  }
  if (msg.node_status) {
    const ev: HubbleEvent = { kind: 'node_status', status: msg.node_status };
    if (nodeName !== undefined) ev.nodeName = nodeName;
    if (msg.time !== undefined) ev.time = msg.time;
    return ev;
  }
  if (msg.lost_events) {
    const ev: HubbleEvent = { kind: 'lost_events', lost: msg.lost_events };
    if (nodeName !== undefined) ev.nodeName = nodeName;
    if (msg.time !== undefined) ev.time = msg.time;
    return ev;
  }
  return null;
}

/** Decodes a GetFlowsResponse into its jsonpb-shaped object, exactly what `-o jsonpb` would print. */
export function decodeGetFlowsResponseJson(bytes: Uint8Array): GetFlowsResponseJson {
  return fastDecode(hubbleTypes().GetFlowsResponse, bytes) as GetFlowsResponseJson;
}

// ---- Encode --------------------------------------------------------------------------------------

/** Flow shape -> fromObject input: timestamps and BoolValue in message form (a shallow copy). */
function flowToObject(flow: Flow): Obj {
  const f: Obj = { ...flow };
  if (f.time !== undefined) f.time = toTimestampMsg(f.time);
  if (f.is_reply !== undefined) f.is_reply = { value: f.is_reply };
  return f;
}

/** Encodes a jsonpb-shaped GetFlowsResponse (as in `hubble observe -o jsonpb` lines) to bytes. */
export function encodeGetFlowsResponse(resp: GetFlowsResponseJson): Uint8Array {
  const { GetFlowsResponse } = hubbleTypes();
  const o: Obj = {};
  if (resp.flow) o.flow = flowToObject(resp.flow);
  else if (resp.node_status) o.node_status = resp.node_status;
  else if (resp.lost_events) {
    const lost: Obj = { ...resp.lost_events };
    if (lost.cpu !== undefined) lost.cpu = { value: lost.cpu };
    o.lost_events = lost;
  }
  if (resp.node_name !== undefined) o.node_name = resp.node_name;
  if (resp.time !== undefined) o.time = toTimestampMsg(resp.time);
  return GetFlowsResponse.encode(GetFlowsResponse.fromObject(o)).finish();
}

/** The GetFlowsResponse a Hubble server would send for a HubbleEvent. */
export function eventToResponseJson(event: HubbleEvent): GetFlowsResponseJson {
  switch (event.kind) {
    case 'flow':
      return { flow: event.flow, node_name: event.nodeName ?? event.flow.node_name, time: event.flow.time };
    case 'node_status':
      return { node_status: event.status, node_name: event.nodeName, time: event.time };
    case 'lost_events':
      return { lost_events: event.lost, node_name: event.nodeName, time: event.time };
  }
}

/** Encodes a HubbleEvent as the GetFlowsResponse a Hubble server would send. */
export function encodeHubbleEvent(event: HubbleEvent): Uint8Array {
  return encodeGetFlowsResponse(eventToResponseJson(event));
}

// ---- Requests and unary responses -----------------------------------------------------------------

/** Encodes a jsonpb-shaped GetFlowsRequest. */
export function encodeGetFlowsRequest(req: GetFlowsRequestJson): Uint8Array {
  const { GetFlowsRequest } = hubbleTypes();
  const o: Obj = { ...req, since: toTimestampMsg(req.since), until: toTimestampMsg(req.until) };
  return GetFlowsRequest.encode(GetFlowsRequest.fromObject(o)).finish();
}

/** Decodes a GetFlowsRequest into its jsonpb shape (`number` as a string, times as RFC 3339). */
export function decodeGetFlowsRequest(bytes: Uint8Array): GetFlowsRequestJson {
  return fastDecode(hubbleTypes().GetFlowsRequest, bytes) as GetFlowsRequestJson;
}

/** Encodes a ServerStatusResponse; the UInt32Value fields take plain numbers. */
export function encodeServerStatus(status: ServerStatusJson): Uint8Array {
  const { ServerStatusResponse } = hubbleTypes();
  const o: Obj = { ...status };
  if (o.num_connected_nodes !== undefined) o.num_connected_nodes = { value: o.num_connected_nodes };
  if (o.num_unavailable_nodes !== undefined) o.num_unavailable_nodes = { value: o.num_unavailable_nodes };
  return ServerStatusResponse.encode(ServerStatusResponse.fromObject(o)).finish();
}

export function decodeServerStatus(bytes: Uint8Array): ServerStatusJson {
  return fastDecode(hubbleTypes().ServerStatusResponse, bytes) as ServerStatusJson;
}

export function encodeGetNodesResponse(resp: GetNodesResponseJson): Uint8Array {
  const { GetNodesResponse } = hubbleTypes();
  return GetNodesResponse.encode(GetNodesResponse.fromObject(resp)).finish();
}

export function decodeGetNodesResponse(bytes: Uint8Array): GetNodesResponseJson {
  return fastDecode(hubbleTypes().GetNodesResponse, bytes) as GetNodesResponseJson;
}

/** Empty messages (ServerStatusRequest, GetNodesRequest) encode to zero bytes. */
export const EMPTY_MESSAGE = new Uint8Array(0);
