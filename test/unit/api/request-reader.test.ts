import { RequestTimeoutError } from '../../../src/api/api-errors';
import type { GraphReader } from '../../../src/api/read-graph';
import { DeadlineSemaphore } from '../../../src/api/deadline-semaphore';
import { createRequestReader } from '../../../src/api/request-reader';
import type { TxOptions } from '../../../src/graph/executor';

/** A reader whose reads end when the test says so, recording how many run at once and their timeouts. */
function heldReader() {
  let running = 0;
  const state = { maxRunning: 0, timeouts: [] as number[], release: [] as (() => void)[] };
  const start = (options?: TxOptions) =>
    new Promise<never[]>((resolve) => {
      running += 1;
      state.maxRunning = Math.max(state.maxRunning, running);
      state.timeouts.push(options?.timeoutMs ?? -1);
      state.release.push(() => {
        running -= 1;
        resolve([]);
      });
    });
  const reader = {
    read: (_q: string, _p?: Record<string, unknown>, options?: TxOptions) => start(options),
    readTx: (_work: unknown, options?: TxOptions) => start(options),
  } as unknown as GraphReader;
  return { reader, state };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('createRequestReader', () => {
  it('runs at most maxSessions reads of one request at once; the others wait their turn', async () => {
    const { reader, state } = heldReader();
    const request = createRequestReader(reader, { maxSessions: 2, timeoutMs: 60_000, scope: 'request', queryTimeoutMs: 30_000 });
    const reads = Array.from({ length: 5 }, () => request.read('RETURN 1'));
    await tick();
    expect(state.timeouts).toHaveLength(2);
    for (let released = 0; released < 5; released += 1) {
      state.release[released]!();
      await tick();
    }
    await Promise.all(reads);
    expect(state.timeouts).toHaveLength(5);
    expect(state.maxRunning).toBe(2);
  });

  it('gives each transaction the time left to the request as its Neo4j timeout, at most the query timeout', async () => {
    const { reader, state } = heldReader();
    const request = createRequestReader(
      reader,
      { maxSessions: 4, timeoutMs: 5_000, scope: 'request', queryTimeoutMs: 30_000 },
      Date.now() - 2_000,
    );
    const read = request.readTx(async () => []);
    await tick();
    expect(state.timeouts[0]).toBeLessThanOrEqual(3_000);
    expect(state.timeouts[0]).toBeGreaterThan(2_000);
    state.release[0]!();
    await read;
    const long = createRequestReader(reader, { maxSessions: 4, timeoutMs: 600_000, scope: 'request', queryTimeoutMs: 30_000 });
    const r2 = long.read('RETURN 1');
    await tick();
    expect(state.timeouts[1]).toBe(30_000);
    state.release[1]!();
    await r2;
  });

  it('fails reads still waiting for their turn at the deadline with RequestTimeoutError, and reads started after it at once', async () => {
    const { reader, state } = heldReader();
    const request = createRequestReader(reader, { maxSessions: 1, timeoutMs: 150, scope: 'request', queryTimeoutMs: 30_000 });
    const first = request.read('RETURN 1');
    const waiting = request.read('RETURN 2');
    await expect(waiting).rejects.toBeInstanceOf(RequestTimeoutError);
    // The running read outlives the deadline (Neo4j has not ended it yet): the request stops waiting for it.
    await expect(first).rejects.toBeInstanceOf(RequestTimeoutError);
    await expect(request.read('RETURN 3')).rejects.toThrow(/HG_API_READ_TIMEOUT/);
    expect(state.release).toHaveLength(1);
    state.release[0]!();
  });

  it('keeps the place of a transaction the request gave up on until it has ended', async () => {
    const { reader, state } = heldReader();
    const sub = createRequestReader(reader, { maxSessions: 1, timeoutMs: 100, scope: 'transaction', queryTimeoutMs: 30_000 });
    await expect(sub.read('RETURN 1')).rejects.toBeInstanceOf(RequestTimeoutError);
    // Per-transaction budget: a later read has its own, but waits for the first transaction to end.
    const next = sub.read('RETURN 2');
    await tick();
    expect(state.release).toHaveLength(1);
    state.release[0]!();
    await tick();
    expect(state.release).toHaveLength(2);
    state.release[1]!();
    await expect(next).resolves.toEqual([]);
  });

  it('makes the reads of costly requests share the heavy sessions of the process, and lets cheap requests through', async () => {
    const { reader, state } = heldReader();
    const heavy = { sessions: new DeadlineSemaphore(1), fromCost: 5000 };
    const options = { maxSessions: 4, timeoutMs: 60_000, scope: 'request' as const, queryTimeoutMs: 30_000, heavy };
    const costly = [createRequestReader(reader, options), createRequestReader(reader, options)];
    for (const r of costly) r.setCost(5000);
    const cheap = createRequestReader(reader, options);
    cheap.setCost(102);
    const reads = [costly[0]!.read('a'), costly[0]!.read('b'), costly[1]!.read('c'), cheap.read('d')];
    await tick();
    // One costly read holds the heavy session; the cheap one runs beside it.
    expect(state.timeouts).toHaveLength(2);
    expect(heavy.sessions.held).toBe(1);
    for (let released = 0; released < 4; released += 1) {
      state.release[released]!();
      await tick();
    }
    await Promise.all(reads);
    expect(state.maxRunning).toBe(2);
  });
});
