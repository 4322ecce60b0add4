/**
 * One subscriber's events as an AsyncIterator (what GraphQL subscriptions consume). The buffer is
 * bounded: a client that does not read loses its oldest events, and the loss is counted.
 */
export class SubscriberQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private done = false;
  /** Events dropped because the buffer was full. */
  dropped = 0;

  /**
   * @param capacity events kept for a slow reader (default 1000)
   * @param onClose called once when the subscriber goes away (client stop, disconnect, or close())
   */
  constructor(
    private readonly onClose: () => void,
    private readonly capacity = 1000,
  ) {}

  push(event: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.buffer.shift();
      this.dropped += 1;
    }
    this.buffer.push(event);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(err);
  }

  /** Ends the stream; a pending `next()` resolves as done. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.buffer.length = 0;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
