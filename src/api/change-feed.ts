import { CHANGED_CALLS, CHANGE_FEED_SEQ, CREATED_PODS, type ChangedCallRow, type CreatedPodRow } from '../graph/cypher/api-change-feed-queries';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import type { GraphReader } from './read-graph';
import { SubscriberQueue } from './subscriber-queue';
import { toChangeEvents } from './to-change-events';
import type { GqlCall, GqlEndpoint } from './to-graphql';
import { UpdateCoalescer } from './update-coalescer';

export type ChangeTopic = 'callAdded' | 'callUpdated' | 'podAdded';

type Payload<K extends ChangeTopic> = K extends 'podAdded' ? GqlEndpoint : GqlCall;

export interface ChangeFeedOptions {
  /** How often Neo4j's change feed is read, in ms (HG_API_CHANGE_POLL, default 500). */
  readonly pollMs: number;
  /** At most one callUpdated per edge per this many ms (HG_API_UPDATE_COALESCE, default 1000). */
  readonly coalesceMs: number;
  /** Rows read per poll and topic; more are read on the next poll (default 50000). */
  readonly maxRowsPerPoll?: number;
  /** Called with each poll's outcome, for metrics. */
  readonly onPoll?: (outcome: { seq: number; events: Record<ChangeTopic, number>; error?: unknown }) => void;
}

interface Subscriber<K extends ChangeTopic> {
  queue: SubscriberQueue<Payload<K>>;
  accept: (event: Payload<K>) => boolean;
}

/**
 * The one change-feed reader of an API process, shared by all its subscribers. It learns of changes
 * from Neo4j (so collectors in other processes and several API replicas work): every `pollMs` it
 * reads the global sequence and, when subscribers exist, what changed since the last sequence it
 * saw, turns the rows into events (pure `toChangeEvents`), coalesces updates, and fans them out in
 * memory through each subscriber's filter.
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
    return { callAdded: this.subscribers.callAdded.size, callUpdated: this.subscribers.callUpdated.size, podAdded: this.subscribers.podAdded.size };
  }

  subscribe<K extends ChangeTopic>(topic: K, accept: (event: Payload<K>) => boolean): SubscriberQueue<Payload<K>> {
    const set = this.subscribers[topic] as unknown as Set<Subscriber<K>>;
    const sub: Subscriber<K> = { accept, queue: new SubscriberQueue<Payload<K>>(() => set.delete(sub)) };
    if (this.closed) sub.queue.close();
    else set.add(sub);
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
    try {
      const limit = this.options.maxRowsPerPoll ?? 50_000;
      const [{ seq }] = await this.reader.read<{ seq: number }>(CHANGE_FEED_SEQ);
      const after = this.lastSeq;
      if (after === undefined || seq < after) {
        // First poll, or the graph was emptied and the sequence started again.
        this.lastSeq = seq;
      } else if (seq > after && !this.hasSubscribers()) {
        this.lastSeq = seq;
      } else if (seq > after) {
        const { calls, pods } = await this.reader.readTx(async (tx) => ({
          calls: await tx.run<ChangedCallRow>(CHANGED_CALLS, { after, upto: seq, limit }),
          pods: this.subscribers.podAdded.size > 0 ? await tx.run<CreatedPodRow>(CREATED_PODS, { after, upto: seq, limit }) : [],
        }));
        // A window larger than the row limit is read in parts: stop before the last (maybe partial) sequence.
        let upto = seq;
        const truncated = calls.length >= limit || pods.length >= limit;
        if (truncated) {
          const lastCall = calls.length >= limit ? calls[calls.length - 1].changeSeq : seq;
          const lastPod = pods.length >= limit ? pods[pods.length - 1].createdSeq : seq;
          upto = Math.max(after + 1, Math.min(lastCall, lastPod) - 1);
        }
        const keep = <R extends { changeSeq?: number; createdSeq?: number | null }>(rows: R[], field: 'changeSeq' | 'createdSeq') =>
          truncated ? rows.filter((r) => (r[field] as number) <= upto) : rows;
        const events = toChangeEvents(keep(calls, 'changeSeq'), keep(pods, 'createdSeq'), after);
        this.lastSeq = upto;
        const now = Date.now();
        const updates = events.callUpdated.flatMap((c) => this.coalescer.offer(c.key, c, now));
        this.publish('callAdded', events.callAdded);
        this.publish('podAdded', events.podAdded);
        this.publish('callUpdated', updates);
        counts.callAdded = events.callAdded.length;
        counts.podAdded = events.podAdded.length;
        counts.callUpdated = updates.length;
      }
      const due = this.coalescer.due(Date.now());
      if (due.length > 0) {
        this.publish('callUpdated', due);
        counts.callUpdated += due.length;
      }
      this.options.onPoll?.({ seq: this.lastSeq ?? 0, events: counts });
    } catch (err) {
      this.options.onPoll?.({ seq: this.lastSeq ?? 0, events: counts, error: err });
      if (Date.now() - this.lastErrorLogMs > 30_000) {
        this.lastErrorLogMs = Date.now();
        this.log.warn({ err: errorMessage(err) }, 'change feed: reading Neo4j failed; retrying');
      }
    }
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
