import crypto from 'node:crypto';
import type { Flow, HubbleEvent } from '../flows/flow';
import { encodeHubbleEvent } from './hubble-codec';
import { nanosToTimestamp, timestampToNanos } from './timestamps';

/** One event of the recording with what is computed once for it. */
export interface RecordingEntry {
  readonly event: HubbleEvent;
  /** Event time (flow time for flows) in ns; undefined when the event has none or it cannot be read. */
  readonly timeNs?: bigint;
  /** Part of the recording (retimed with `retime`), not appended later. */
  readonly recorded: boolean;
  /** Encoding as served in pass 0 without retime, kept while the recording is small. */
  bytes?: Buffer;
}

/** An event as one replay pass serves it: retimed and with its own uuid where that applies. */
export interface ServedEvent {
  readonly event: HubbleEvent;
  /** Its time as served, in ns; undefined when it has none. */
  readonly timeNs?: bigint;
  /** Its protobuf encoding (computed on demand; cached for the unchanged recording). */
  bytes(): Buffer;
}

export interface ReplayRecordingOptions {
  /**
   * Shift recorded times so that the recording starts at `startedMs`; pass k comes k spans later
   * and every flow of pass k > 0 gets a uuid of its own. Default false.
   */
  readonly retime?: boolean;
  /** Server start (epoch ms): the recording's first flow is served at this time with `retime`. Default now. */
  readonly startedMs?: number;
}

/** Encodings are cached per entry up to this many entries (beyond, memory matters more than CPU). */
const CACHE_ENCODED_UP_TO = 500_000;
const ONE_MS_NS = 1_000_000n;

function eventTime(event: HubbleEvent): string | undefined {
  return event.kind === 'flow' ? event.flow.time : event.time;
}

function eventNode(event: HubbleEvent): string | undefined {
  return event.kind === 'flow' ? (event.nodeName ?? event.flow.node_name) : event.nodeName;
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
  const h = crypto
    .createHash('sha1')
    .update(`${original ?? ''}|${index}|${pass}`)
    .digest('hex');
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * What a replay server holds, as Hubble's ring buffer does: the recording, then the events added to
 * it, indexed from 0 for the first event ever held; the oldest may be forgotten (`forgetBefore`),
 * after which `base` is the index of the oldest still held. It also knows the nodes seen, the
 * flows seen (counting every loop pass served), and wakes whoever waits for new events. No I/O.
 */
export class ReplayRecording {
  private readonly entries: RecordingEntry[] = [];
  private baseIndex = 0;
  private readonly retime: boolean;
  /** Retime: added to recorded times so that the first recorded flow happens at server start. */
  private offsetNs = 0n;
  /** Time between two loop passes, in ns: the recording's span plus 1 ms. */
  private spanNsValue = ONE_MS_NS;
  private firstNsValue: bigint | undefined;
  private lastNsValue: bigint | undefined;
  private readonly startedMs: number;
  private readonly nodes = new Set<string>();
  private readonly flowsOfNode = new Map<string, number>();
  private seen = 0;
  private highestPass = 0;
  private closed = false;
  /** Waiters for new events (released by `append` and `close`, never by a stream's drain). */
  private readonly eventWaiters = new Set<() => void>();

  constructor(options: ReplayRecordingOptions = {}) {
    this.retime = options.retime === true;
    this.startedMs = options.startedMs ?? Date.now();
  }

  /**
   * Takes the recording itself (before serving starts): its times set the retiming offset and the
   * span of a loop pass.
   */
  record(events: Iterable<HubbleEvent>): void {
    for (const event of events) this.push(event, true);
    for (const e of this.entries) {
      if (e.timeNs === undefined) continue;
      if (this.firstNsValue === undefined || e.timeNs < this.firstNsValue) this.firstNsValue = e.timeNs;
      if (this.lastNsValue === undefined || e.timeNs > this.lastNsValue) this.lastNsValue = e.timeNs;
    }
    if (this.retime && this.firstNsValue !== undefined) this.offsetNs = BigInt(this.startedMs) * ONE_MS_NS - this.firstNsValue;
    if (this.firstNsValue !== undefined && this.lastNsValue !== undefined)
      this.spanNsValue = this.lastNsValue - this.firstNsValue + ONE_MS_NS;
  }

  /** Adds events after the recording and wakes the streams waiting for new events. */
  append(events: Iterable<HubbleEvent>): void {
    let added = 0;
    for (const event of events) {
      this.push(event, false);
      added++;
    }
    if (added > 0) this.wakeEventWaiters();
  }

  private push(event: HubbleEvent, recorded: boolean): void {
    const entry: RecordingEntry = { event, timeNs: safeNanos(eventTime(event)), recorded };
    this.entries.push(entry);
    const node = eventNode(event);
    if (node) {
      this.nodes.add(node);
      if (event.kind === 'flow') this.flowsOfNode.set(node, (this.flowsOfNode.get(node) ?? 0) + 1);
    }
    if (event.kind === 'flow') this.seen++;
  }

  /** Forgets all but the newest `keep` events (a live server's ring buffer). */
  forgetBefore(keep: number): void {
    if (this.entries.length <= keep) return;
    const drop = this.entries.length - keep;
    this.entries.splice(0, drop);
    this.baseIndex += drop;
  }

  /** Index of the oldest event held. */
  get base(): number {
    return this.baseIndex;
  }

  /** Index after the newest event held. */
  get end(): number {
    return this.baseIndex + this.entries.length;
  }

  /** Number of events held. */
  get size(): number {
    return this.entries.length;
  }

  /** Flows held now. */
  get flowCount(): number {
    return this.entries.filter((e) => e.event.kind === 'flow').length;
  }

  /** Flows ever taken in or served in a new loop pass (ServerStatus `seen_flows`). */
  get seenFlows(): number {
    return this.seen;
  }

  /** Node names seen, in order of first sight. */
  get nodeNames(): readonly string[] {
    return [...this.nodes];
  }

  /** Flows held per node name. */
  flowsOfNodeNamed(name: string): number {
    return this.flowsOfNode.get(name) ?? 0;
  }

  get firstNs(): bigint | undefined {
    return this.firstNsValue;
  }

  get lastNs(): bigint | undefined {
    return this.lastNsValue;
  }

  /** Time between two loop passes, in ns. */
  get spanNs(): bigint {
    return this.spanNsValue;
  }

  /** A stream reached loop pass `pass`: the first to do so counts its flows as seen again. */
  notePass(pass: number): void {
    if (pass <= this.highestPass) return;
    this.highestPass = pass;
    this.seen += this.flowCount;
  }

  /** The event at `index` (>= base, < end) as served in pass `pass`. */
  served(index: number, pass: number): ServedEvent {
    const entry = this.entries[index - this.baseIndex];
    if (entry === undefined) throw new RangeError(`no event at index ${index} (held: ${this.baseIndex}..${this.end - 1})`);
    const shift = this.retime ? (entry.recorded ? this.offsetNs : 0n) + BigInt(pass) * this.spanNsValue : 0n;
    const newUuid = entry.event.kind === 'flow' && (pass > 0 || (this.retime && entry.event.flow.uuid === undefined));
    if (shift === 0n && !newUuid) {
      const bytes = () => {
        if (entry.bytes) return entry.bytes;
        const b = Buffer.from(encodeHubbleEvent(entry.event));
        if (this.entries.length <= CACHE_ENCODED_UP_TO) entry.bytes = b;
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

  /**
   * Resolves when events are appended, the recording is closed, or `signal` aborts (a stream that
   * ends). Only new events release it: a stream waiting for its client to read waits elsewhere.
   */
  waitForEvents(signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.eventWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.eventWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Number of streams waiting for new events. */
  get waitingForEvents(): number {
    return this.eventWaiters.size;
  }

  /** No more events come: releases every waiter now and later. */
  close(): void {
    this.closed = true;
    this.wakeEventWaiters();
  }

  private wakeEventWaiters(): void {
    for (const w of [...this.eventWaiters]) w();
  }
}
