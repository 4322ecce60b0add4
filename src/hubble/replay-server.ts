import crypto from 'node:crypto';
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { InputError, errorMessage } from '../errors';
import type { Flow, HubbleEvent } from '../flows/flow';
import { type Logger, silentLogger } from '../logger';
import { buildFlowFilterMatcher } from './flow-filters';
import {
  type GetFlowsRequestJson,
  decodeGetFlowsRequest,
  encodeGetFlowsResponse,
  encodeGetNodesResponse,
  encodeHubbleEvent,
  encodeServerStatus,
} from './hubble-codec';
import { OBSERVER_SERVICE } from './observer-service';
import { readFlowFiles } from './read-flow-files';
import { nanosToTimestamp, timestampToNanos } from './timestamps';

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

interface Entry {
  event: HubbleEvent;
  /** Event time (flow time for flows) in ns; undefined when the event has none. */
  timeNs?: bigint;
  /** Part of the recording (retimed with --retime), not appended later. */
  recorded: boolean;
  /** Encoding as served in pass 0 without retime, kept while the buffer is small. */
  bytes?: Buffer;
}

const CACHE_ENCODED_UP_TO = 500_000;
/** How often a live server takes in the events whose time has come, in ms. */
const LIVE_TICK_MS = 50;
const ONE_MS_NS = 1_000_000n;

function eventTime(event: HubbleEvent): string | undefined {
  return event.kind === 'flow' ? event.flow.time : event.time;
}

function eventNode(event: HubbleEvent): string | undefined {
  return event.kind === 'flow' ? event.nodeName ?? event.flow.node_name : event.nodeName;
}

function safeNanos(time: string | undefined): bigint | undefined {
  if (time === undefined) return undefined;
  try {
    return timestampToNanos(time);
  } catch {
    return undefined;
  }
}

/** A stable uuid (RFC 4122 layout, version 5 bits) for a flow of a given replay pass. */
export function derivedUuid(index: number, pass: number, original: string | undefined): string {
  const h = crypto.createHash('sha1').update(`${original ?? ''}|${index}|${pass}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen.trim());
  if (!m) throw new InputError(`listen address must be host:port, got "${listen}"`);
  return { host: m[1], port: Number(m[2]) };
}

function grpcError(code: grpc.status, details: string): Partial<grpc.StatusObject> & Error {
  return Object.assign(new Error(details), { code, details });
}

/**
 * Serves observer.Observer (GetFlows, ServerStatus, GetNodes) from a recording over real gRPC, for
 * the collector, demos and tests. GetFlows follows Hubble's semantics (pkg/hubble/observer):
 *
 * - `first` with `follow` is INVALID_ARGUMENT.
 * - Without `follow`: `number` N gives the last N matching flows (the first N with `first`); with
 *   `since` the flows from that time on (at most N when N is set); `until` ends the answer at the
 *   first flow after it. Without `number` and `since` the whole buffer is returned — as Hubble
 *   does for number 0 (the hubble CLI itself asks for `--last 20` unless told otherwise).
 * - With `follow`: the last N (or from `since`), then the stream stays open for what `append` adds
 *   and, with `loop`, the next pass. One deliberate difference: `follow` without `number` and
 *   `since` starts at the beginning of the recording (Hubble would send only new flows), because for
 *   a replay the recording *is* what happens now.
 * - Filters: whitelist OR, blacklist subtracted, fields within a filter ANDed (flow-filters.ts).
 *   Node status and lost-events entries pass unfiltered and do not count towards `number`.
 */
export async function startReplayServer(options: ReplayServerOptions): Promise<ReplayServer> {
  const log = options.log ?? silentLogger();
  const rate = options.rate ?? 0;
  const loop = options.loop === true;
  const retime = options.retime === true;
  const sendNodeStatus = options.nodeStatus !== false;
  const live = options.live;
  if (live && (options.events?.length || options.files?.length || loop || retime || rate > 0)) {
    throw new InputError('a live replay server serves events as their time comes: give it no events, files, loop, retime or rate');
  }
  const bufferSize = options.bufferSize ?? 65_536;
  if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new InputError(`bufferSize must be an integer >= 1, got ${String(options.bufferSize)}`);
  const entries: Entry[] = [];
  /** Absolute index of entries[0]: a live server forgets its oldest events. */
  let base = 0;
  for (const event of options.events ?? []) entries.push({ event, timeNs: safeNanos(eventTime(event)), recorded: true });
  if (options.files && options.files.length > 0) {
    const skipped: Record<string, number> = {};
    for await (const item of readFlowFiles(options.files)) {
      if (item.event) entries.push({ event: item.event, timeNs: safeNanos(eventTime(item.event)), recorded: true });
      else if (item.skip) {
        skipped[item.skip.reason] = (skipped[item.skip.reason] ?? 0) + 1;
        if (skipped[item.skip.reason] <= 5) log.warn({ file: item.file, line: item.line, reason: item.skip.reason }, item.skip.message);
      }
    }
    if (Object.keys(skipped).length > 0) log.warn({ skipped }, 'some lines of the recording were skipped');
  }

  const startedMs = Date.now();
  const nodeNames = new Set<string>();
  const flowsByNode = new Map<string, number>();
  const recordedTimes = entries.flatMap((e) => (e.timeNs === undefined ? [] : [e.timeNs]));
  const firstNs = recordedTimes.reduce<bigint | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
  const lastNs = recordedTimes.reduce<bigint | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);
  // Retime: the first recorded flow happens at server start; each loop pass is one span later.
  const offsetNs = retime && firstNs !== undefined ? BigInt(startedMs) * ONE_MS_NS - firstNs : 0n;
  const spanNs = firstNs !== undefined && lastNs !== undefined ? lastNs - firstNs + ONE_MS_NS : ONE_MS_NS;
  const indexNode = (e: Entry) => {
    const n = eventNode(e.event);
    if (n) {
      nodeNames.add(n);
      if (e.event.kind === 'flow') flowsByNode.set(n, (flowsByNode.get(n) ?? 0) + 1);
    }
  };
  entries.forEach(indexNode);
  let seenFlows = entries.filter((e) => e.event.kind === 'flow').length;
  let highestPass = 0;
  let stopped = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
    waiters.clear();
  };

  /** The event as served in a pass: retimed and with its own uuid where that applies. */
  function served(entry: Entry, index: number, pass: number): { event: HubbleEvent; timeNs?: bigint; bytes: () => Buffer } {
    const shift = retime ? (entry.recorded ? offsetNs : 0n) + BigInt(pass) * spanNs : 0n;
    const newUuid = entry.event.kind === 'flow' && (pass > 0 || (retime && entry.event.flow.uuid === undefined));
    if (shift === 0n && !newUuid) {
      const bytes = () => {
        if (entry.bytes) return entry.bytes;
        const b = Buffer.from(encodeHubbleEvent(entry.event));
        if (entries.length <= CACHE_ENCODED_UP_TO) entry.bytes = b;
        return b;
      };
      return { event: entry.event, timeNs: entry.timeNs, bytes };
    }
    const timeNs = entry.timeNs === undefined ? undefined : entry.timeNs + shift;
    const time = timeNs === undefined ? undefined : nanosToTimestamp(timeNs);
    let event: HubbleEvent;
    if (entry.event.kind === 'flow') {
      const flow: Flow = { ...entry.event.flow };
      if (time !== undefined) flow.time = time;
      if (newUuid) flow.uuid = derivedUuid(index, pass, pass === 0 ? undefined : entry.event.flow.uuid);
      event = { ...entry.event, flow };
    } else {
      event = { ...entry.event, time };
    }
    return { event, timeNs, bytes: () => Buffer.from(encodeHubbleEvent(event)) };
  }

  function parseRequestTime(text: string | undefined, field: string): bigint | undefined {
    if (text === undefined) return undefined;
    try {
      return timestampToNanos(text);
    } catch {
      throw grpcError(grpc.status.INVALID_ARGUMENT, `invalid ${field}: ${text}`);
    }
  }

  async function getFlows(call: grpc.ServerWritableStream<Buffer, Buffer>): Promise<void> {
    let req: GetFlowsRequestJson;
    let matcher: ReturnType<typeof buildFlowFilterMatcher>;
    let sinceNs: bigint | undefined;
    let untilNs: bigint | undefined;
    try {
      req = decodeGetFlowsRequest(call.request);
      if (req.first && req.follow) throw grpcError(grpc.status.INVALID_ARGUMENT, 'first cannot be specified with follow');
      matcher = buildFlowFilterMatcher({ whitelist: req.whitelist, blacklist: req.blacklist });
      sinceNs = parseRequestTime(req.since, 'since');
      untilNs = parseRequestTime(req.until, 'until');
    } catch (err) {
      const e = err instanceof InputError ? grpcError(grpc.status.INVALID_ARGUMENT, err.message) : (err as Error);
      log.warn({ err: errorMessage(e) }, 'GetFlows refused');
      call.emit('error', e);
      return;
    }
    const number = Number(req.number ?? 0);
    const follow = req.follow === true;
    let closed = false;
    const close = () => {
      closed = true;
      wake();
    };
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
    const isOpen = () => !closed && !stopped && !call.cancelled;
    const write = async (bytes: Buffer) => {
      if (call.write(bytes)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          waiters.delete(done);
          resolve();
        };
        call.on('drain', done);
        waiters.add(done); // also released by stop() and cancellation
      });
    };
    const passes = (entry: Entry, index: number, pass: number) => {
      const s = served(entry, index, pass);
      if (s.event.kind !== 'flow') return { s, counts: false, pass: true };
      if (sinceNs !== undefined && (s.timeNs === undefined || s.timeNs < sinceNs)) return { s, counts: true, pass: false };
      const ok = matcher({ flow: s.event.flow, nodeName: s.event.nodeName });
      return { s, counts: true, pass: ok };
    };

    // Where to start: the last `number` matching flows, unless `first` or `since` say otherwise.
    let start = base;
    if (number > 0 && !req.first && sinceNs === undefined) {
      let found = 0;
      for (let i = entries.length - 1; i >= 0; i--) {
        const p = passes(entries[i], i, 0);
        if (p.counts && p.pass) found++;
        start = base + i;
        if (found === number) break;
      }
    }
    const limit = !follow && number > 0 ? number : Infinity;
    // Without follow, a live server answers with what it holds when asked (later events are not waited for).
    const endAbs = live && !follow ? base + entries.length : Infinity;
    log.info({ peer: call.getPeer(), number, first: req.first === true, follow, since: req.since, until: req.until, whitelist: req.whitelist?.length ?? 0, blacklist: req.blacklist?.length ?? 0 }, 'GetFlows');

    let sent = 0;
    try {
      if (sendNodeStatus && nodeNames.size > 0) {
        await write(Buffer.from(encodeGetFlowsResponse({ node_status: { state_change: 'NODE_CONNECTED', node_names: [...nodeNames] }, time: nanosToTimestamp(BigInt(Date.now()) * ONE_MS_NS) })));
      }
      const paceStart = Date.now();
      let paced = 0;
      let pass = 0;
      let i = start;
      while (isOpen()) {
        // A follower slower than a live server's buffer misses what was forgotten, as with Hubble.
        if (i < base) i = base;
        if (i >= endAbs) break;
        if (i >= base + entries.length) {
          if (!follow) break;
          if (loop && entries.length > 0) {
            pass++;
            i = 0;
            if (pass > highestPass) {
              highestPass = pass;
              seenFlows += entries.filter((e) => e.event.kind === 'flow').length;
            }
            continue;
          }
          await new Promise<void>((resolve) => waiters.add(resolve));
          continue;
        }
        const index = i++;
        const p = passes(entries[index - base], index, pass);
        if (p.counts) {
          if (untilNs !== undefined && p.s.timeNs !== undefined && p.s.timeNs > untilNs) break;
          if (!p.pass) continue;
          if (follow && rate > 0) {
            paced++;
            const due = paceStart + (paced * 1000) / rate;
            const wait = due - Date.now();
            if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
            if (!isOpen()) break;
          }
          sent++;
        }
        await write(p.s.bytes());
        if (sent >= limit) break;
        // Let other calls and timers run during long answers.
        if (sent % 2000 === 0) await new Promise((r) => setImmediate(r));
      }
      if (!stopped && !call.cancelled) call.end();
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'GetFlows stream failed');
      if (!call.cancelled) call.emit('error', grpcError(grpc.status.INTERNAL, errorMessage(err)));
    } finally {
      log.info({ peer: call.getPeer(), flows: sent, cancelled: call.cancelled || stopped }, 'GetFlows ended');
    }
  }

  let liveTimer: NodeJS.Timeout | undefined;
  if (live) {
    const it = live[Symbol.iterator]();
    let pending = it.next();
    const take = () => {
      const nowNs = BigInt(Date.now()) * ONE_MS_NS;
      let added = 0;
      while (!pending.done) {
        const event = pending.value;
        const timeNs = safeNanos(eventTime(event));
        if (timeNs !== undefined && timeNs > nowNs) break;
        const e: Entry = { event, timeNs, recorded: false };
        entries.push(e);
        indexNode(e);
        if (event.kind === 'flow') seenFlows++;
        added++;
        pending = it.next();
      }
      // Forget the oldest in chunks, so that the splice is rare.
      if (entries.length > bufferSize + Math.max(1, bufferSize >> 2)) {
        const drop = entries.length - bufferSize;
        entries.splice(0, drop);
        base += drop;
      }
      if (added > 0) wake();
    };
    take();
    liveTimer = setInterval(take, LIVE_TICK_MS);
  }

  const server = new grpc.Server();
  server.addService(OBSERVER_SERVICE, {
    GetFlows: (call: grpc.ServerWritableStream<Buffer, Buffer>) => void getFlows(call),
    ServerStatus: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const flows = entries.filter((e) => e.event.kind === 'flow').length;
      const spanS = Number(spanNs) / 1e9;
      callback(
        null,
        Buffer.from(
          encodeServerStatus({
            num_flows: String(flows),
            max_flows: String(Math.max(flows, 1)),
            seen_flows: String(seenFlows),
            uptime_ns: String(BigInt(Date.now() - startedMs) * ONE_MS_NS),
            num_connected_nodes: nodeNames.size,
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
            nodes: [...nodeNames].sort().map((name) => ({
              name,
              version: REPLAY_VERSION,
              address: address,
              state: 'NODE_CONNECTED',
              tls: { enabled: options.tls !== undefined },
              uptime_ns: uptime,
              num_flows: String(flowsByNode.get(name) ?? 0),
              max_flows: String(flowsByNode.get(name) ?? 0),
              seen_flows: String(flowsByNode.get(name) ?? 0),
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
    server.bindAsync((options.listen ?? '127.0.0.1:0').trim(), credentials, (err, p) => (err ? reject(new InputError(`replay server cannot listen on ${options.listen}: ${err.message}`, { cause: err })) : resolve(p))),
  ).catch((err: unknown) => {
    if (liveTimer) clearInterval(liveTimer);
    throw err;
  });
  const address = `${host}:${port}`;
  log.info(
    { address, events: entries.length, flows: seenFlows, nodes: [...nodeNames], rate, loop, retime, tls: options.tls !== undefined, first: firstNs !== undefined ? nanosToTimestamp(firstNs) : undefined, last: lastNs !== undefined ? nanosToTimestamp(lastNs) : undefined },
    'replay server listening',
  );

  return {
    address,
    port,
    get size() {
      return entries.length;
    },
    append(events) {
      for (const event of events) {
        const e: Entry = { event, timeNs: safeNanos(eventTime(event)), recorded: false };
        entries.push(e);
        indexNode(e);
        if (event.kind === 'flow') seenFlows++;
      }
      wake();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (liveTimer) clearInterval(liveTimer);
      wake();
      server.forceShutdown();
      log.info({ address }, 'replay server stopped');
    },
  };
}
