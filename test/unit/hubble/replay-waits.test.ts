import { Writable } from 'node:stream';
import type { HubbleEvent } from '../../../src/flows/flow';
import { ReplayRecording } from '../../../src/hubble/replay-recording';
import { writeWithBackpressure } from '../../../src/hubble/write-with-backpressure';

const FLOW: HubbleEvent = { kind: 'flow', flow: { time: '2026-03-01T10:00:00Z', verdict: 'FORWARDED' } };

/** A real Writable that holds each chunk until `release()`: its buffer is full after one byte. */
function stalledClient(): { sink: Writable; release: () => void } {
  const held: Array<() => void> = [];
  const sink = new Writable({ highWaterMark: 1, write: (_chunk, _enc, callback) => void held.push(() => callback()) });
  return { sink, release: () => held.splice(0).forEach((done) => done()) };
}

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('replay server waits: drained and new events are separate', () => {
  it('append() releases a stream waiting for new events but not a writer waiting for its client to drain', async () => {
    const recording = new ReplayRecording();
    recording.record([FLOW]);
    const { sink, release } = stalledClient();
    const stream = new AbortController();
    const writing = writeWithBackpressure(sink, Buffer.from('abc'), stream.signal);
    const waiting = recording.waitForEvents(stream.signal);
    expect(await settled(writing)).toBe(false);
    expect(await settled(waiting)).toBe(false);

    recording.append([FLOW]);
    expect(await settled(waiting)).toBe(true);
    expect(await settled(writing)).toBe(false);

    release();
    expect(await settled(writing)).toBe(true);
  });

  it('a stream that ends releases both its waits, and closing the recording releases waiters for new events', async () => {
    const recording = new ReplayRecording();
    const { sink } = stalledClient();
    const stream = new AbortController();
    const writing = writeWithBackpressure(sink, Buffer.from('abc'), stream.signal);
    const waiting = recording.waitForEvents(stream.signal);
    stream.abort();
    expect(await settled(writing)).toBe(true);
    expect(await settled(waiting)).toBe(true);
    expect(recording.waitingForEvents).toBe(0);

    const other = recording.waitForEvents();
    recording.close();
    expect(await settled(other)).toBe(true);
  });

  it('does not wait when the client still has room', async () => {
    const sink = new Writable({ highWaterMark: 1024, write: (_c, _e, callback) => callback() });
    expect(await settled(writeWithBackpressure(sink, Buffer.from('abc'), new AbortController().signal))).toBe(true);
  });
});
