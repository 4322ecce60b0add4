import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { InputError, errorMessage } from '../errors';
import type { HubbleEvent } from '../flows/flow';
import { type Logger, silentLogger } from '../logger';
import {
  type GetFlowsRequestJson,
  decodeGetFlowsRequest,
  encodeGetFlowsResponse,
  encodeGetNodesResponse,
  encodeServerStatus,
} from './hubble-codec';
import { OBSERVER_SERVICE } from './observer-service';
import { type GetFlowsPlan, planGetFlows, walkGetFlows } from './plan-get-flows';
import { readFlowFiles } from './read-flow-files';
import { ReplayRecording } from './replay-recording';
import { nanosToTimestamp, timestampToNanos } from './timestamps';
import { writeWithBackpressure } from './write-with-backpressure';

/** Version string the replay server reports in ServerStatus and GetNodes. */
export const REPLAY_VERSION = 'hubble-graph-replay/0.1.0';

export interface ReplayServerOptions {
  /** The recording, in order. Either this or `files` (or both: events first). */
  events?: readonly HubbleEvent[];
  /** Flow files to load the recording from (any format readFlowFiles reads; unreadable lines are counted and logged). */
  files?: readonly string[];
  /** host:port to listen on; port 0 picks a free port. Default `127.0.0.1:0`. */
  listen?: string;
  /** Flows per second sent to each following client; 0 (default): as fast as the client reads. */
  rate?: number;
  /** Followers get the recording again after its end, pass after pass. Default false. */
  loop?: boolean;
  /**
   * Shift flow times so that the recording starts when the server starts; with `loop`, each pass
   * comes after the previous one (shifted by the recording's span) and every flow of pass k > 0
   * gets a uuid of its own. Default false.
   */
  retime?: boolean;
  /**
   * A live cluster instead of a recording: events in order of time, possibly without end (the
   * `npm start` demo). Each is served when its time comes by this machine's clock, to every
   * follower; the last `bufferSize` are kept for requests that look back (`number`, `since`), as in
   * Hubble's ring buffer. Not together with `events`, `files`, `loop`, `retime` or `rate`.
   */
  live?: Iterable<HubbleEvent>;
  /** Live: events kept for requests that look back. Default 65,536. */
  bufferSize?: number;
  /** TLS: server certificate and key (PEM files); with `clientCaFile`, clients must present a certificate signed by it (mTLS). */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Send a NODE_CONNECTED node_status naming the recording's nodes at the start of each GetFlows, as Hubble Relay does. Default true. */
  nodeStatus?: boolean;
  log?: Logger;
}

export interface ReplayServer {
  /** host:port the server listens on (the actual port when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  /** Number of events in the buffer (recording plus appended). */
  readonly size: number;
  /** Adds events after the recording; following clients receive them. */
  append(events: readonly HubbleEvent[]): void;
  /** Ends every stream (clients see UNAVAILABLE/CANCELLED, as when a Hubble server goes away) and closes the port. */
  stop(): Promise<void>;
}

/** How often a live server takes in the events whose time has come, in ms. */
const LIVE_TICK_MS = 50;
const ONE_MS_NS = 1_000_000n;

function splitHostPort(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen.trim());
  if (!m?.[1] || !m[2]) throw new InputError(`listen address must be host:port, got "${listen}"`);
  return { host: m[1], port: Number(m[2]) };
}

function grpcError(code: grpc.status, details: string): Partial<grpc.StatusObject> & Error {
  return Object.assign(new Error(details), { code, details });
}

function eventTimeNs(event: HubbleEvent): bigint | undefined {
  const time = event.kind === 'flow' ? event.flow.time : event.time;
  if (time === undefined) return undefined;
  try {
    return timestampToNanos(time);
  } catch {
    return undefined;
  }
}

/**
 * Serves observer.Observer (GetFlows, ServerStatus, GetNodes) from a recording over real gRPC, for
 * the collector, demos and tests: the gRPC and TLS adapter. What a GetFlows request gets follows
 * Hubble's rules (`planGetFlows`/`walkGetFlows`); what the server holds is a `ReplayRecording`; this
 * function loads it, paces followers (`rate`), waits for slow clients (backpressure) and for new
 * events, each wait released only by its own cause.
 */
export async function startReplayServer(options: ReplayServerOptions): Promise<ReplayServer> {
  const log = options.log ?? silentLogger();
  const rate = options.rate ?? 0;
  const loop = options.loop === true;
  const sendNodeStatus = options.nodeStatus !== false;
  const live = options.live;
  if (live && (options.events?.length || options.files?.length || loop || options.retime === true || rate > 0)) {
    throw new InputError('a live replay server serves events as their time comes: give it no events, files, loop, retime or rate');
  }
  const bufferSize = options.bufferSize ?? 65_536;
  if (!Number.isInteger(bufferSize) || bufferSize < 1)
    throw new InputError(`bufferSize must be an integer >= 1, got ${String(options.bufferSize)}`);
  const loaded: HubbleEvent[] = [...(options.events ?? [])];
  if (options.files && options.files.length > 0) {
    const skipped: Record<string, number> = {};
    for await (const item of readFlowFiles(options.files)) {
      if (item.event) loaded.push(item.event);
      else if (item.skip) {
        const count = (skipped[item.skip.reason] ?? 0) + 1;
        skipped[item.skip.reason] = count;
        if (count <= 5) log.warn({ file: item.file, line: item.line, reason: item.skip.reason }, item.skip.message);
      } else if (item.failed !== undefined) throw new InputError(`the recording cannot be loaded: ${item.failed}`);
    }
    if (Object.keys(skipped).length > 0) log.warn({ skipped }, 'some lines of the recording were skipped');
  }

  const startedMs = Date.now();
  const recording = new ReplayRecording({ retime: options.retime === true, startedMs });
  recording.record(loaded);
  /** One per open GetFlows stream: aborted when the stream ends or the server stops. */
  const streams = new Set<AbortController>();
  let stopped = false;

  async function getFlows(call: grpc.ServerWritableStream<Buffer, Buffer>): Promise<void> {
    let req: GetFlowsRequestJson;
    let plan: GetFlowsPlan;
    try {
      req = decodeGetFlowsRequest(call.request);
      plan = planGetFlows(req);
    } catch (err) {
      const e =
        err instanceof InputError
          ? grpcError(grpc.status.INVALID_ARGUMENT, err.message)
          : err instanceof Error
            ? err
            : new Error(String(err));
      log.warn({ err: errorMessage(e) }, 'GetFlows refused');
      call.emit('error', e);
      return;
    }
    const ended = new AbortController();
    streams.add(ended);
    const close = () => ended.abort();
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
    const isOpen = () => !ended.signal.aborted && !stopped && !call.cancelled;
    log.info(
      {
        peer: call.getPeer(),
        number: plan.number,
        first: plan.first,
        follow: plan.follow,
        since: req.since,
        until: req.until,
        whitelist: req.whitelist?.length ?? 0,
        blacklist: req.blacklist?.length ?? 0,
      },
      'GetFlows',
    );

    let sent = 0;
    try {
      const nodeNames = recording.nodeNames;
      if (sendNodeStatus && nodeNames.length > 0) {
        await writeWithBackpressure(
          call,
          Buffer.from(
            encodeGetFlowsResponse({
              node_status: { state_change: 'NODE_CONNECTED', node_names: [...nodeNames] },
              time: nanosToTimestamp(BigInt(Date.now()) * ONE_MS_NS),
            }),
          ),
          ended.signal,
        );
      }
      const paceStart = Date.now();
      // Without follow, a live server answers with what it holds when asked (later events are not waited for).
      const steps = walkGetFlows(plan, recording, { loop, endsAtHeld: live !== undefined });
      while (isOpen()) {
        const next = steps.next();
        if (next.done) break;
        const step = next.value;
        if (step.kind === 'pass') {
          recording.notePass(step.pass);
          continue;
        }
        if (step.kind === 'wait') {
          await recording.waitForEvents(ended.signal);
          continue;
        }
        if (step.counted) {
          if (plan.follow && rate > 0) {
            const wait = paceStart + ((sent + 1) * 1000) / rate - Date.now();
            if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
            if (!isOpen()) break;
          }
          sent++;
        }
        await writeWithBackpressure(call, step.served.bytes(), ended.signal);
        // Let other calls and timers run during long answers.
        if (step.counted && sent % 2000 === 0) await new Promise((r) => setImmediate(r));
      }
      if (!stopped && !call.cancelled) call.end();
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'GetFlows stream failed');
      if (!call.cancelled) call.emit('error', grpcError(grpc.status.INTERNAL, errorMessage(err)));
    } finally {
      streams.delete(ended);
      log.info({ peer: call.getPeer(), flows: sent, cancelled: call.cancelled || stopped }, 'GetFlows ended');
    }
  }

  let liveTimer: NodeJS.Timeout | undefined;
  if (live) {
    const it = live[Symbol.iterator]();
    let pending = it.next();
    const take = () => {
      const nowNs = BigInt(Date.now()) * ONE_MS_NS;
      const due: HubbleEvent[] = [];
      while (!pending.done) {
        const timeNs = eventTimeNs(pending.value);
        if (timeNs !== undefined && timeNs > nowNs) break;
        due.push(pending.value);
        pending = it.next();
      }
      recording.append(due);
      // Forget the oldest in chunks, so that the splice is rare.
      if (recording.size > bufferSize + Math.max(1, bufferSize >> 2)) recording.forgetBefore(bufferSize);
    };
    take();
    liveTimer = setInterval(take, LIVE_TICK_MS);
  }

  const server = new grpc.Server();
  server.addService(OBSERVER_SERVICE, {
    GetFlows: (call: grpc.ServerWritableStream<Buffer, Buffer>) => void getFlows(call),
    ServerStatus: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const flows = recording.flowCount;
      const spanS = Number(recording.spanNs) / 1e9;
      callback(
        null,
        Buffer.from(
          encodeServerStatus({
            num_flows: String(flows),
            max_flows: String(Math.max(flows, 1)),
            seen_flows: String(recording.seenFlows),
            uptime_ns: String(BigInt(Date.now() - startedMs) * ONE_MS_NS),
            num_connected_nodes: recording.nodeNames.length,
            num_unavailable_nodes: 0,
            unavailable_nodes: [],
            version: REPLAY_VERSION,
            flows_rate: rate > 0 ? rate : spanS > 0 ? flows / spanS : 0,
          }),
        ),
      );
    },
    GetNodes: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const uptime = String(BigInt(Date.now() - startedMs) * ONE_MS_NS);
      callback(
        null,
        Buffer.from(
          encodeGetNodesResponse({
            nodes: [...recording.nodeNames].sort().map((name) => ({
              name,
              version: REPLAY_VERSION,
              address: address,
              state: 'NODE_CONNECTED',
              tls: { enabled: options.tls !== undefined },
              uptime_ns: uptime,
              num_flows: String(recording.flowsOfNodeNamed(name)),
              max_flows: String(recording.flowsOfNodeNamed(name)),
              seen_flows: String(recording.flowsOfNodeNamed(name)),
            })),
          }),
        ),
      );
    },
  });

  const { host } = splitHostPort(options.listen ?? '127.0.0.1:0');
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(
        options.tls.clientCaFile ? fs.readFileSync(options.tls.clientCaFile) : null,
        [{ private_key: fs.readFileSync(options.tls.keyFile), cert_chain: fs.readFileSync(options.tls.certFile) }],
        options.tls.clientCaFile !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync((options.listen ?? '127.0.0.1:0').trim(), credentials, (err, p) =>
      err ? reject(new InputError(`replay server cannot listen on ${options.listen}: ${err.message}`, { cause: err })) : resolve(p),
    ),
  ).catch((err: unknown) => {
    if (liveTimer) clearInterval(liveTimer);
    throw err;
  });
  const address = `${host}:${port}`;
  const { firstNs, lastNs } = recording;
  // A live server has no recording to describe: what it holds so far is what has come due.
  const served = live
    ? { live: true, bufferSize, due: recording.size }
    : {
        events: recording.size,
        flows: recording.seenFlows,
        nodes: recording.nodeNames,
        rate,
        loop,
        retime: options.retime === true,
        first: firstNs !== undefined ? nanosToTimestamp(firstNs) : undefined,
        last: lastNs !== undefined ? nanosToTimestamp(lastNs) : undefined,
      };
  log.info({ address, ...served, tls: options.tls !== undefined }, 'replay server listening');

  return {
    address,
    port,
    get size() {
      return recording.size;
    },
    append(events) {
      recording.append(events);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (liveTimer) clearInterval(liveTimer);
      recording.close();
      for (const stream of streams) stream.abort();
      server.forceShutdown();
      log.info({ address }, 'replay server stopped');
    },
  };
}
