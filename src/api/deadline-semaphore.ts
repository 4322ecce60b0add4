/**
 * A counting semaphore whose waiters give up at a deadline: `acquire` resolves when a permit is
 * free, or rejects with `onTimeout()` when the deadline passes first. Permits go to waiters in the
 * order they asked.
 */
export class DeadlineSemaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  /** @param permits how many holders at once (at least 1) */
  constructor(private readonly permits: number) {}

  /** Permits held right now. */
  get held(): number {
    return this.active;
  }

  acquire(deadlineMs: number, onTimeout: () => Error): Promise<void> {
    if (this.active < this.permits) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const take = () => {
        clearTimeout(timer);
        this.active += 1;
        resolve();
      };
      const timer = setTimeout(
        () => {
          const i = this.queue.indexOf(take);
          if (i >= 0) this.queue.splice(i, 1);
          reject(onTimeout());
        },
        Math.max(0, deadlineMs - Date.now()),
      );
      this.queue.push(take);
    });
  }

  release(): void {
    this.active -= 1;
    this.queue.shift()?.();
  }
}
