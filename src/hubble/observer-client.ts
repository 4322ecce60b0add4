import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { FilterConfig, HubbleConfig } from '../config';
import { HubbleGraphError, errorMessage } from '../errors';
import type { HubbleEvent } from '../flows/flow';
import { flowKey } from '../flows/flow-key';
import { NodeResume } from './node-resume';
import { FLOW_TIME_FLOOR_MS } from '../flows/flow-time';
import { type Logger, silentLogger } from '../logger';
import { toFlowFilters } from './flow-filters';
import {
  EMPTY_MESSAGE,
  type FlowFilterJson,
  type GetFlowsRequestJson,
  type GetNodesResponseJson,
  type ServerStatusJson,
  decodeGetFlowsResponse,
  decodeGetNodesResponse,
  decodeServerStatus,
  encodeGetFlowsRequest,
} from './hubble-codec';
import { ObserverBytesClient } from './observer-service';
import { nodesOfShard, shardOfNode } from './shard-of-node';
import { nanosToTimestamp, timestampToNanos } from './timestamps';
import { sleep } from '../sleep';

/** Hubble could not be reached, refused the request, or kept failing. */
export class HubbleConnectionError extends HubbleGraphError {
  /** gRPC status code of the last failure, when there was one. */
  readonly grpcCode?: number;

  constructor(message: string, options?: { cause?: unknown; grpcCode?: number }) {
    super('HUBBLE_UNAVAILABLE', message, options);
    this.grpcCode = options?.grpcCode;
  }
}

/** How to reach Hubble: the `hubble` settings group (reconnect delays are only read by streamHubbleEvents). */
export type HubbleConnectionConfig = Pick<HubbleConfig, 'server' | 'tls' | 'tlsCaFile' | 'tlsCertFile' | 'tlsKeyFile' | 'tlsServerName'>;

/** A connection to observer.Observer with decoded messages. */
export interface ObserverClient {
  serverStatus(timeoutMs?: number): Promise<ServerStatusJson>;
  getNodes(timeoutMs?: number): Promise<GetNodesResponseJson>;
  /** GetFlows as a readable stream of raw GetFlowsResponse bytes (decode with decodeGetFlowsResponse). */
  getFlows(request: GetFlowsRequestJson): grpc.ClientReadableStream<Buffer>;
  close(): void;
}

/** Plain text unless `tls` is set or a TLS file is given; with TLS: CA file (else system roots), client cert+key for mTLS, server name override. */
function channelSetup(config: HubbleConnectionConfig): { credentials: grpc.ChannelCredentials; channelOptions: grpc.ChannelOptions } {
  const useTls = config.tls || config.tlsCaFile !== undefined || config.tlsCertFile !== undefined;
  // A channel of its own (grpc-js shares subchannels between clients by default, and with them the
  // reconnect backoff state of an earlier client of the same address).
  const channelOptions: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };
  if (!useTls) return { credentials: grpc.credentials.createInsecure(), channelOptions };
  const read = (file: string | undefined, what: string) => {
    if (file === undefined) return null;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new HubbleConnectionError(`cannot read the Hubble TLS ${what} file ${file}: ${errorMessage(err)}`, { cause: err });
    }
  };
  const credentials = grpc.credentials.createSsl(
    read(config.tlsCaFile, 'CA'),
    read(config.tlsKeyFile, 'client key'),
    read(config.tlsCertFile, 'client certificate'),
  );
  if (config.tlsServerName) {
    // Hubble Relay's certificate names *.hubble-relay.cilium.io, not the address we dial (port-forward, service IP).
    channelOptions['grpc.ssl_target_name_override'] = config.tlsServerName;
    channelOptions['grpc.default_authority'] = config.tlsServerName;
  }
  return { credentials, channelOptions };
}

/** Explains a gRPC failure in terms of what to check. */
export function describeGrpcError(err: unknown, config: HubbleConnectionConfig): string {
  const e = err as Partial<grpc.ServiceError>;
  // grpc-js appends an empty "Resolution note:" to connection failures.
  const details = (e.details || errorMessage(err)).replace(/\s*Resolution note:\s*$/, '');
  const where = `Hubble at ${config.server}${config.tls || config.tlsCaFile ? ' (TLS)' : ''}`;
  if (/certificate|ssl|tls|handshake|alert/i.test(details)) {
    return `TLS handshake with ${where} failed: ${details} (check --hubble-tls-ca-file, --hubble-tls-server-name and, for mTLS, the client certificate and key)`;
  }
  if (e.code === grpc.status.UNAVAILABLE) {
    return `cannot reach ${where}: ${details} (is Hubble Relay port-forwarded or reachable? plain text vs TLS must match the server)`;
  }
  return `${where} answered ${e.code !== undefined ? grpc.status[e.code] : 'an error'}: ${details}`;
}

/** Opens a channel to Hubble (lazily: nothing is sent before the first call). */
export function createObserverClient(config: HubbleConnectionConfig): ObserverClient {
  const { credentials, channelOptions } = channelSetup(config);
  const client = new ObserverBytesClient(config.server, credentials, channelOptions) as unknown as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
  const unary = <T>(method: string, decode: (b: Buffer) => T, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      (
        client[method] as (
          req: Uint8Array,
          md: grpc.Metadata,
          opts: grpc.CallOptions,
          cb: (err: grpc.ServiceError | null, res?: Buffer) => void,
        ) => void
      )(EMPTY_MESSAGE, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new HubbleConnectionError(describeGrpcError(err, config), { cause: err, grpcCode: err.code }));
        else resolve(decode(res ?? Buffer.alloc(0)));
      });
    });
  return {
    serverStatus: (timeoutMs = 10_000) => unary('ServerStatus', decodeServerStatus, timeoutMs),
    getNodes: (timeoutMs = 10_000) => unary('GetNodes', decodeGetNodesResponse, timeoutMs),
    getFlows: (request) => (client.GetFlows as (req: Uint8Array) => grpc.ClientReadableStream<Buffer>)(encodeGetFlowsRequest(request)),
    close: () => client.close(),
  };
}

/** One ServerStatus call on a fresh connection (for `hubble-graph` status checks and tests). */
export async function fetchServerStatus(config: HubbleConnectionConfig, timeoutMs = 10_000): Promise<ServerStatusJson> {
  const client = createObserverClient(config);
  try {
    return await client.serverStatus(timeoutMs);
  } finally {
    client.close();
  }
}

export interface StreamHubbleEventsOptions {
  /** Where Hubble is, TLS, and the reconnect delays (first delay, doubling up to the maximum, with jitter). */
  hubble: HubbleConnectionConfig & Pick<HubbleConfig, 'reconnectMinMs' | 'reconnectMaxMs'>;
  /** Turned into whitelist/blacklist FlowFilters (toFlowFilters) and sent to Hubble. */
  filter?: FilterConfig;
  /** Extra FlowFilters, added to those of `filter`. */
  whitelist?: FlowFilterJson[];
  blacklist?: FlowFilterJson[];
  /** First request only: start at this time (RFC 3339) instead of "from now". */
  since?: string;
  /** First request only: start with the last N flows Hubble has. */
  number?: number;
  /** Ends the stream; the iteration then finishes without an error. */
  signal?: AbortSignal;
  log?: Logger;
  /** Called with Hubble's ServerStatus after each (re)connect: version, flows, connected and unavailable nodes. */
  onServerStatus?: (status: ServerStatusJson) => void;
  /** Called when a connection attempt or stream fails, before waiting `retryInMs`. */
  onConnectionError?: (err: HubbleConnectionError, failures: number, retryInMs: number) => void;
  /** Called for a message that does not decode (it is skipped). */
  onUndecodable?: (err: Error) => void;
  /** Give up (throw HubbleConnectionError) after this many failures in a row. Default: never. */
  maxConsecutiveFailures?: number;
  /**
   * On resume, ask for flows from this long before the last one received (and drop those already
   * received), in ms. 0 (default): from exactly the last flow time. Hubble Relay merges the nodes'
   * flows in a short sort window, so flows can arrive slightly out of time order; an overlap of a
   * few seconds also recovers those that were still on their way when the connection broke.
   */
  resumeOverlapMs?: number;
  /** Timeout of the ServerStatus call made on each connect, in ms. Default 10000. */
  statusTimeoutMs?: number;
  /**
   * A flow dated more than this ahead of the clock (ms) is still yielded (the collector skips it)
   * but never becomes the point a reconnect resumes from. Default: no limit.
   */
  maxFlowAheadMs?: number;
  /**
   * Read only the nodes of one shard of `count` (shardOfNode): the node list comes from Relay's
   * GetNodes before every request and every `refreshMs`, and a node_status event naming a node of
   * this shard that the request lacks is taken at once; the request then carries the shard's nodes
   * as `node_name` in every whitelist filter. When nodes join, the stream is asked again from the
   * time the node list last lacked them, and what the other nodes had already sent is dropped.
   */
  shard?: { count: number; index: number; refreshMs: number };
  /** Called with this shard's nodes whenever the request is made for a new set of them. */
  onShardNodes?: (nodes: readonly string[]) => void;
}

/** The names of this shard's nodes in Relay's node list. */
async function readShardNodes(
  client: ObserverClient,
  shard: { count: number; index: number },
  timeoutMs: number,
  server: string,
): Promise<string[]> {
  let nodes: GetNodesResponseJson['nodes'];
  try {
    ({ nodes } = await client.getNodes(timeoutMs));
  } catch (err) {
    // A Hubble server of one node (not Relay) has no GetNodes: say what to change, not only the status.
    if ((err as HubbleConnectionError).grpcCode === grpc.status.UNIMPLEMENTED)
      throw new HubbleConnectionError(
        `HG_SHARD_COUNT is ${shard.count}, and a shard asks Hubble Relay for its nodes (GetNodes), which ${server} does not implement (a Hubble server of one node?): point HUBBLE_SERVER at Hubble Relay, or set HG_SHARD_COUNT=1`,
        { cause: err, grpcCode: grpc.status.UNIMPLEMENTED },
      );
    throw err;
  }
  return nodesOfShard(
    (nodes ?? []).map((n) => n.name ?? ''),
    shard.count,
    shard.index,
  );
}

/**
 * While no node falls to a shard (a collector started before Relay lists its nodes), the first
 * wait before GetNodes is asked again, in ms; each further wait is twice as long, up to the shard's
 * `refreshMs`. Waiting a whole refresh (30 s by default) kept a collector started beside a fresh
 * Relay idle for that long after its nodes came.
 */
const EMPTY_SHARD_FIRST_WAIT_MS = 1_000;

/**
 * How far behind the newest flow a stream asked again reaches for a node that fell behind the others
 * (NodeResume): a node silent for longer (gone, or idle) does not pull every node's flows back with it.
 */
const RESUME_HORIZON_MS = 120_000;

/** Failures that retrying cannot fix. */
const PERMANENT = new Set<number>([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNIMPLEMENTED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.UNAUTHENTICATED,
]);

/** Flow times before FLOW_TIME_FLOOR_MS never become a resume point either. */
const FLOOR_NS = BigInt(FLOW_TIME_FLOOR_MS) * 1_000_000n;

/** Messages buffered from a stream before it is paused (flow control back to Hubble). */
const HIGH_WATER = 4096;

/**
 * The messages of a server stream, buffered through 'data' events with pause/resume. Node's
 * Readable async iterator costs about half of grpc-js' throughput here (measured: ~39k vs ~80k+
 * GetFlowsResponse/s); this keeps the same backpressure with one promise per empty buffer instead
 * of one per message. Ends when the stream ends; throws the stream's error after the messages
 * received before it.
 */
async function* messages(call: grpc.ClientReadableStream<Buffer>): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let head = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  call.on('data', (b: Buffer) => {
    queue.push(b);
    if (queue.length - head >= HIGH_WATER) call.pause();
    notify();
  });
  call.on('end', () => {
    ended = true;
    notify();
  });
  call.on('error', (err: Error) => {
    failure = err;
    notify();
  });
  while (true) {
    const b = queue[head];
    if (b !== undefined) {
      head++;
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
        if (call.isPaused()) call.resume();
      }
      yield b;
      continue;
    }
    if (failure) throw failure;
    if (ended) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

/** Exponential backoff with jitter: the n-th failure waits a random time in [d/2, d], d = min(max, min * 2^(n-1)). */
export function backoffDelayMs(failures: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

/**
 * Hubble events from observer.Observer/GetFlows with `follow: true`, for as long as the signal
 * allows: flows, node status changes (Hubble Relay) and lost-events reports.
 *
 * Calls ServerStatus on every connect (logged, and given to `onServerStatus`). When the connection
 * or the stream fails, or the server ends the stream, it reconnects with exponential backoff and
 * jitter and **resumes**: the new request asks for `since` = the earliest of each node's last flow
 * time it yielded (minus `resumeOverlapMs`; a node at most RESUME_HORIZON_MS behind the newest), and
 * the flows of a node which it had already yielded (before that node's last time, or known by uuid,
 * or by content when Hubble sets no uuid) are dropped, so that a reconnect leaves no gap and
 * repeats nothing (NodeResume).
 * INVALID_ARGUMENT, UNIMPLEMENTED, UNAUTHENTICATED and PERMISSION_DENIED end it with a
 * HubbleConnectionError, as does `maxConsecutiveFailures`.
 */
export async function* streamHubbleEvents(options: StreamHubbleEventsOptions): AsyncGenerator<HubbleEvent> {
  const log = options.log ?? silentLogger();
  const { signal } = options;
  const cfg = options.hubble;
  const fromFilter = options.filter ? toFlowFilters(options.filter) : { whitelist: [], blacklist: [] };
  const whitelist = [...fromFilter.whitelist, ...(options.whitelist ?? [])];
  const blacklist = [...fromFilter.blacklist, ...(options.blacklist ?? [])];
  const maxFailures = options.maxConsecutiveFailures ?? Infinity;
  const maxAheadMs = options.maxFlowAheadMs ?? 1e15;
  // A fresh channel for every connection attempt: the previous one may sit in grpc-js' own
  // reconnect backoff (1 s growing to 2 min) while our backoff says to try now.
  let client = createObserverClient(cfg);
  let call: grpc.ClientReadableStream<Buffer> | undefined;
  const onAbort = () => call?.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });

  // Resume state, node by node: each node's newest flow time yielded and its flows from `overlap` before it on.
  const overlapNs = BigInt(Math.max(0, Math.round(options.resumeOverlapMs ?? 0))) * 1_000_000n;
  const resume = new NodeResume(overlapNs, BigInt(RESUME_HORIZON_MS) * 1_000_000n);
  let repeated: ((node: string, key: string, ns: bigint) => boolean) | undefined;
  let failures = 0;
  let connects = 0;
  // Sharding: the nodes asked for, the newest flow time when the node list last lacked any new node,
  // nodes announced by node_status before GetNodes lists them, and a pending restart for new nodes.
  const shard = options.shard;
  let streamNodes: Set<string> | undefined;
  let listedAtNs: bigint | undefined;
  let firstNs: bigint | undefined;
  const announced = new Set<string>();
  let restartForNodes = false;
  const firstEmptyWaitMs = Math.min(EMPTY_SHARD_FIRST_WAIT_MS, shard?.refreshMs ?? EMPTY_SHARD_FIRST_WAIT_MS);
  let emptyWaitMs = firstEmptyWaitMs;
  const restart = (why: string, nodes: string[]) => {
    if (restartForNodes) return;
    restartForNodes = true;
    log.info({ why, nodes, shard: shard && `${shard.index}/${shard.count}` }, 'new Hubble nodes for this shard; asking Relay again');
    call?.cancel();
  };
  const refreshTimer =
    shard &&
    setInterval(() => {
      if (streamNodes === undefined || call === undefined) return;
      const known = streamNodes;
      // A node missing from the answer had sent nothing we lack before the call went out.
      const askedAtNs = resume.lastNs;
      readShardNodes(client, shard, options.statusTimeoutMs ?? 10_000, cfg.server)
        .then((mine) => {
          const added = mine.filter((n) => !known.has(n));
          if (added.length > 0) restart('GetNodes', added);
          else if (known === streamNodes && askedAtNs !== undefined) listedAtNs = askedAtNs;
        })
        .catch((err) => log.debug({ err: errorMessage(err) }, 'GetNodes failed; the node list is read again at the next refresh'));
    }, shard.refreshMs);
  refreshTimer?.unref();

  try {
    while (!signal?.aborted) {
      let failure: HubbleConnectionError;
      try {
        let status: ServerStatusJson | undefined;
        try {
          status = await client.serverStatus(options.statusTimeoutMs ?? 10_000);
        } catch (err) {
          // Some servers lack ServerStatus; only a failure to connect matters here.
          if ((err as HubbleConnectionError).grpcCode !== grpc.status.UNIMPLEMENTED) throw err;
          log.warn({ server: cfg.server }, 'Hubble does not implement ServerStatus; going on with GetFlows');
        }
        if (signal?.aborted) break;
        if (status) {
          log.info(
            {
              server: cfg.server,
              version: status.version,
              numFlows: status.num_flows,
              maxFlows: status.max_flows,
              seenFlows: status.seen_flows,
              connectedNodes: status.num_connected_nodes,
              unavailableNodes: status.unavailable_nodes ?? [],
            },
            'connected to Hubble',
          );
          options.onServerStatus?.(status);
        }
        let nodeWhitelist = whitelist;
        let asked: string[] | undefined;
        if (shard) {
          const mine = [
            ...new Set([...(await readShardNodes(client, shard, options.statusTimeoutMs ?? 10_000, cfg.server)), ...announced]),
          ].sort();
          if (signal?.aborted) break;
          if (mine.length === 0) {
            // An empty node_name list would ask for every node: wait for one of this shard instead,
            // asking again soon at first, then less often (EMPTY_SHARD_FIRST_WAIT_MS).
            log.warn(
              { shard: `${shard.index}/${shard.count}`, retryInMs: emptyWaitMs },
              'no Hubble node falls to this shard yet; asking Relay again later',
            );
            await sleep(emptyWaitMs, signal);
            emptyWaitMs = Math.min(2 * emptyWaitMs, shard.refreshMs);
            continue;
          }
          emptyWaitMs = firstEmptyWaitMs;
          const before = streamNodes;
          const added = before === undefined ? [] : mine.filter((n) => !before.has(n));
          const lastNs = resume.lastNs;
          // A node never read before is wanted from when the node list last lacked it (its flows before
          // are lost); a node read before that dropped out of an answer and came back, from its own point.
          if (lastNs !== undefined) for (const n of added) resume.listedNew(n, listedAtNs ?? firstNs ?? lastNs);
          listedAtNs = lastNs;
          asked = mine;
          if (before === undefined || added.length > 0 || mine.length !== before.size) options.onShardNodes?.(mine);
          streamNodes = new Set(mine);
          nodeWhitelist = whitelist.length === 0 ? [{ node_name: mine }] : whitelist.map((f) => ({ ...f, node_name: mine }));
        }
        restartForNodes = false;
        connects++;
        const request: GetFlowsRequestJson = { follow: true, whitelist: nodeWhitelist, blacklist };
        const plan = resume.plan(asked);
        repeated = plan.sinceNs === undefined ? undefined : plan.repeated;
        if (plan.sinceNs !== undefined) {
          // Asked again: from the earliest point of the nodes asked for, each node's flows sent before
          // its own point dropped (NodeResume).
          request.since = nanosToTimestamp(plan.sinceNs);
        } else {
          if (options.since !== undefined) request.since = options.since;
          if (options.number !== undefined && options.number > 0) request.number = options.number;
        }
        log.info(
          {
            since: request.since,
            number: request.number,
            whitelist: whitelist.length,
            blacklist: blacklist.length,
            resume: plan.sinceNs !== undefined,
          },
          'GetFlows',
        );
        call = client.getFlows(request);
        for await (const bytes of messages(call)) {
          failures = 0;
          let event: HubbleEvent | null;
          try {
            event = decodeGetFlowsResponse(bytes);
          } catch (err) {
            log.warn({ err: errorMessage(err), bytes: bytes.length }, 'undecodable GetFlowsResponse skipped');
            options.onUndecodable?.(err as Error);
            continue;
          }
          if (event === null) continue;
          if (event.kind === 'flow' && event.flow.time !== undefined) {
            let ns: bigint | undefined;
            try {
              ns = timestampToNanos(event.flow.time);
            } catch {
              ns = undefined;
            }
            // A time out of range (a broken node clock) must not become the point a reconnect asks from.
            if (ns !== undefined && ns >= FLOOR_NS && ns <= BigInt(Date.now() + maxAheadMs) * 1_000_000n) {
              const key = flowKey(event.flow, event.nodeName);
              const node = event.nodeName ?? event.flow.node_name ?? '';
              if (repeated?.(node, key, ns)) continue; // yielded before the stream was asked again
              if (firstNs === undefined) firstNs = ns;
              resume.yielded(node, key, ns);
            }
          }
          if (shard && event.kind === 'node_status' && streamNodes !== undefined && event.status.state_change === 'NODE_CONNECTED') {
            const known = streamNodes;
            const added = (event.status.node_names ?? []).filter(
              (n) => n !== '' && !known.has(n) && shardOfNode(n, shard.count) === shard.index,
            );
            if (added.length > 0) {
              for (const n of added) announced.add(n);
              restart('node_status', added);
            }
          }
          // Node status and lost-events reports are logged by their consumer (the collector), which
          // also sees them from files; logging them here too printed each one twice.
          yield event;
          if (signal?.aborted) break;
        }
        if (signal?.aborted) break;
        if (restartForNodes) continue;
        failure = new HubbleConnectionError(`Hubble at ${cfg.server} ended the GetFlows stream`);
      } catch (err) {
        if (signal?.aborted) break;
        // Cancelled by us to ask again with this shard's new nodes: not a failure, no backoff.
        if (restartForNodes) continue;
        // HubbleConnectionError.code is our own string code; the gRPC status is grpcCode.
        const code = err instanceof HubbleConnectionError ? err.grpcCode : (err as Partial<grpc.ServiceError>).code;
        failure =
          err instanceof HubbleConnectionError
            ? err
            : new HubbleConnectionError(describeGrpcError(err, cfg), { cause: err, grpcCode: code });
        if (code !== undefined && PERMANENT.has(code)) throw failure;
      } finally {
        call?.cancel();
        call = undefined;
      }
      failures++;
      if (failures >= maxFailures) throw failure;
      client.close();
      client = createObserverClient(cfg);
      const delay = backoffDelayMs(failures, cfg.reconnectMinMs, cfg.reconnectMaxMs);
      log.warn({ err: failure.message, failures, retryInMs: delay, connects }, 'Hubble connection lost; reconnecting');
      options.onConnectionError?.(failure, failures, delay);
      await sleep(delay, signal);
    }
  } finally {
    if (refreshTimer) clearInterval(refreshTimer);
    signal?.removeEventListener('abort', onAbort);
    call?.cancel();
    client.close();
  }
}
