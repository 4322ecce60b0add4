/** The part of a writable stream (a gRPC server stream, a Node Writable) that backpressure needs. */
export interface BackpressuredSink {
  /** Queues `chunk`; false when the sink's buffer is full and the writer should wait for 'drain'. */
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

/**
 * Writes `chunk` and, when the sink's buffer is full, waits until the sink drains or `signal`
 * aborts (the stream ended or the server stops). Only those two release the wait: events arriving
 * for other streams never do, so a writer does not overrun a client that is not reading.
 */
export async function writeWithBackpressure(sink: BackpressuredSink, chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (sink.write(chunk) || signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      sink.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    sink.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
