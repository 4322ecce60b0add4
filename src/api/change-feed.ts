import {
  CHANGE_FEED_HEAD_AND_LOG,
  CHANGE_WINDOW_ROWS,
  type ChangeWindowRowsRow,
  type HeadAndLogRow,
} from '../graph/cypher/api-change-feed-queries';
import { type TxRunner, runOneRow } from '../graph/executor';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import type { GraphReader } from './read-graph';
import { isEntryComplete, planChangeWindow } from './plan-change-window';
import { SubscriberQueue } from './subscriber-queue';
import { type ChangeEvents, toChangeEvents } from './to-change-events';
import type { GqlCall, GqlEndpoint } from './to-graphql';
import { UpdateCoalescer } from './update-coalescer';

export type ChangeTopic = 'callAdded' | 'callUpdated' | 'podAdded';

type Payload<K extends ChangeTopic> = K extends 'podAdded' ? GqlEndpoint : GqlCall;

export interface ChangeFeedOptions {
  /** How often Neo4j's change feed is read, in ms (HG_API_CHANGE_POLL, default 500). */
  readonly pollMs: number;
  /** At most one callUpdated per edge per this many ms (HG_API_UPDATE_COALESCE, default 1000). */
  readonly coalesceMs: number;
  /** Changed calls read per poll, about; more are read on the next poll (default 50000; one whole entry at least). */
  readonly maxRowsPerPoll?: number;
  /** Change-log entries read per poll (default 10000). */
  readonly maxEntriesPerPoll?: number;
  /**
   * How long a poll waits for a missing or incomplete change-log entry before it goes on without
   * it, in ms (default 30000). A safety valve, not a delay: entries commit in order, so a wait
   * normally ends at the next poll.
   */
  readonly stuckAfterMs?: number;
  /** Called with each poll's outcome, for metrics; `skipped` counts sequence numbers given up on. */
  readonly onPoll?: (outcome: { seq: number; events: Record<ChangeTopic, number>; skipped: number; error?: unknown }) => void;
}

/** What one poll read: the sequence it got to, and the events of the entries up to there. */
interface WindowRead {
  readonly upto: number;
  readonly events?: ChangeEvents;
  readonly skipped?: number;
  /** The poll did not read the log (nobody listening) and went to the head. */
  readonly followedHead?: boolean;
}

interface Subscriber<K extends ChangeTopic> {
  queue: SubscriberQueue<Payload<K>>;
  accept: (event: Payload<K>) => boolean;
}

/**
 * The one change-feed reader of an API process, shared by all its subscribers. It learns of changes
 * from Neo4j (so collectors in other processes and several API replicas work): every `pollMs`,
 * when subscribers exist, it reads the change log after the last sequence number it delivered, in
 * order and without holes, and the current values of the calls and pods the log names; it turns
 * them into events (pure `toChangeEvents`), coalesces updates, and fans them out in memory through
 * each subscriber's filter. Every call created after a subscription started reaches it as
 * `callAdded` exactly once, whatever the interleaving of writers and polls.
 */
export class ChangeFeed {
  private readonly subscribers: { [K in ChangeTopic]: Set<Subscriber<K>> } = {
    callAdded: new Set(),
    callUpdated: new Set(),
    podAdded: new Set(),
  };
  private readonly coalescer: UpdateCoalescer<GqlCall>;
  private lastSeq: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private lastErrorLogMs = 0;
  private stuck: { seq: number; sinceMs: number } | undefined;
  /** Subscriptions started so far; a poll compares it before and after to see one join while it ran. */
  private joins = 0;

  constructor(
    private readonly reader: GraphReader,
    private readonly options: ChangeFeedOptions,
    private readonly log: Logger,
  ) {
    this.coalescer = new UpdateCoalescer(options.coalesceMs);
  }

  /** Starts polling; the first poll records the current sequence, so only later changes become events. */
  start(): void {
    if (this.timer || this.closed) return;
    const tick = () => {
      this.running = this.poll().finally(() => {
        this.running = undefined;
        if (!this.closed) this.timer = setTimeout(tick, this.options.pollMs);
      });
    };
    tick();
  }

  /** Resolves once the feed knows the current sequence (useful before announcing readiness). */
  async ready(): Promise<void> {
    while (this.lastSeq === undefined && !this.closed) {
      await (this.running ?? new Promise((r) => setTimeout(r, 20)));
    }
  }

  /** Number of open subscriptions per topic. */
  counts(): Record<ChangeTopic, number> {
    return {
      callAdded: this.subscribers.callAdded.size,
      callUpdated: this.subscribers.callUpdated.size,
      podAdded: this.subscribers.podAdded.size,
    };
  }

  subscribe<K extends ChangeTopic>(topic: K, accept: (event: Payload<K>) => boolean): SubscriberQueue<Payload<K>> {
    const set = this.subscribers[topic] as unknown as Set<Subscriber<K>>;
    const sub: Subscriber<K> = { accept, queue: new SubscriberQueue<Payload<K>>(() => set.delete(sub)) };
    if (this.closed) sub.queue.close();
    else {
      set.add(sub);
      this.joins += 1;
    }
    return sub.queue;
  }

  private hasSubscribers(): boolean {
    return this.subscribers.callAdded.size + this.subscribers.callUpdated.size + this.subscribers.podAdded.size > 0;
  }

  private publish<K extends ChangeTopic>(topic: K, events: readonly Payload<K>[]): void {
    const set = this.subscribers[topic] as unknown as Set<Subscriber<K>>;
    for (const event of events) {
      for (const sub of set) {
        if (sub.accept(event)) sub.queue.push(event);
      }
    }
  }

  private async poll(): Promise<void> {
    const counts: Record<ChangeTopic, number> = { callAdded: 0, callUpdated: 0, podAdded: 0 };
    const joinsBefore = this.joins;
    try {
      const read = await this.reader.readTx((tx) => this.readWindow(tx));
      // A poll that ran without the log (nobody listening) follows the head. If a subscription began
      // meanwhile, that head may hold changes committed after it began: keep the old sequence, so
      // the next poll reads them from the log (a change from just before the join may come too).
      const joinedMeanwhile =
        this.joins !== joinsBefore && this.hasSubscribers() && this.lastSeq !== undefined && read.upto >= this.lastSeq;
      if (!(read.followedHead && joinedMeanwhile)) this.lastSeq = read.upto;
      if (read.events) {
        const now = Date.now();
        const updates = read.events.callUpdated.flatMap((c) => this.coalescer.offer(c.key, c, now));
        this.publish('callAdded', read.events.callAdded);
        this.publish('podAdded', read.events.podAdded);
        this.publish('callUpdated', updates);
        counts.callAdded = read.events.callAdded.length;
        counts.podAdded = read.events.podAdded.length;
        counts.callUpdated = updates.length;
      }
      const due = this.coalescer.due(Date.now());
      if (due.length > 0) {
        this.publish('callUpdated', due);
        counts.callUpdated += due.length;
      }
      this.options.onPoll?.({ seq: this.lastSeq ?? 0, events: counts, skipped: read.skipped ?? 0 });
    } catch (err) {
      this.options.onPoll?.({ seq: this.lastSeq ?? 0, events: counts, skipped: 0, error: err });
      if (Date.now() - this.lastErrorLogMs > 30_000) {
        this.lastErrorLogMs = Date.now();
        this.log.warn({ err: errorMessage(err) }, 'change feed: reading Neo4j failed; retrying');
      }
    }
  }

  /**
   * One poll's reads, in one read transaction of two statements: the head of the feed with the
   * change-log entries after the last sequence read, then the current values of what the complete
   * part of them names.
   */
  private async readWindow(tx: TxRunner): Promise<WindowRead> {
    const after = this.lastSeq;
    const withLog = after !== undefined && this.hasSubscribers();
    const { head, entries } = await runOneRow<HeadAndLogRow>(tx, CHANGE_FEED_HEAD_AND_LOG, {
      withLog,
      after: after ?? 0,
      limit: this.options.maxEntriesPerPoll ?? 10_000,
    });
    // First poll, an emptied graph (the sequence started again), or nobody listening: follow the head.
    if (after === undefined || head < after || !withLog) {
      this.stuck = undefined;
      return { upto: head, followedHead: true };
    }
    if (head === after) return { upto: after };
    const window = planChangeWindow(entries, after, this.options.maxRowsPerPoll ?? 50_000);
    if (window.length === 0) {
      // Entry after + 1 is not visible. A commit in flight becomes visible in a moment; an entry
      // that never comes (trimmed while this process lagged, or written by an older writer) is
      // given up on after stuckAfterMs, with a warning: its events are lost for these subscribers.
      if (!this.stuckFor(after + 1)) return { upto: after };
      const upto = entries[0] !== undefined ? entries[0].seq - 1 : head;
      this.log.warn({ from: after + 1, to: upto }, 'change feed: change-log entries missing; their subscription events are skipped');
      return { upto, skipped: upto - after };
    }
    const newest = window.at(-1);
    if (newest === undefined) return { upto: after };
    const readPods = this.subscribers.podAdded.size > 0;
    const { changed, created, pods } = await runOneRow<ChangeWindowRowsRow>(tx, CHANGE_WINDOW_ROWS, {
      after,
      upto: newest.seq,
      keys: [...new Set(window.flatMap((e) => e.createdCalls))],
      podIds: readPods ? [...new Set(window.flatMap((e) => e.createdPods))] : [],
    });
    const createdByKey = new Map(created.map((r) => [r.call.key, r]));
    const podsById = new Map(pods.map((r) => [r.endpoint.id, r]));
    // A later sequence number visible anywhere means the newest entry was applied before it.
    const followed = head > newest.seq || entries.some((e) => e.seq > newest.seq);
    let complete = window;
    if (!followed && !isEntryComplete(newest, { changed, created: createdByKey, pods: readPods ? podsById : undefined })) {
      if (!this.stuckFor(newest.seq)) complete = window.slice(0, -1);
      else this.log.warn({ seq: newest.seq }, 'change feed: change-log entry still incomplete; delivering what is visible');
    }
    const last = complete.at(-1);
    if (last === undefined) return { upto: after };
    const upto = last.seq;
    this.stuck = undefined;
    return {
      upto,
      events: toChangeEvents({
        entries: complete,
        changed: changed.filter((r) => r.changeSeq <= upto),
        created: createdByKey,
        pods: podsById,
      }),
    };
  }

  /** Whether the poll has waited for sequence `seq` for stuckAfterMs already (and starts the clock). */
  private stuckFor(seq: number): boolean {
    const now = Date.now();
    if (this.stuck?.seq !== seq) this.stuck = { seq, sinceMs: now };
    return now - this.stuck.sinceMs >= (this.options.stuckAfterMs ?? 30_000);
  }

  /** Stops polling and ends every subscription. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    for (const set of Object.values(this.subscribers)) {
      for (const sub of [...set] as Subscriber<ChangeTopic>[]) sub.queue.close();
    }
  }
}
