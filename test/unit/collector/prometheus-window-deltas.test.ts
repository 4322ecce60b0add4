import { createCollectorMetrics } from '../../../src/collector/collector-metrics';
import { GraphFlusher, type BatchWriter } from '../../../src/collector/graph-flusher';
import { PrometheusWindowDeltas } from '../../../src/collector/prometheus-window-deltas';
import { silentLogger } from '../../../src/logger';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import { CURSOR_PROPERTY, parsePrometheusCursor, type PrometheusCursor } from '../../../src/prometheus/prometheus-cursor';
import { httpCallRow, podRow } from '../../helpers/ingest-rows';

const cursorAt = (endMs: number): PrometheusCursor => ({ endMs, series: new Map([['k', { value: endMs, tMs: endMs }]]) });
const windowRows = (flows: number): IngestBatch => ({
  endpoints: [podRow('a/x'), podRow('b/y')],
  calls: [httpCallRow('a/x', 'b/y', flows)],
  maxFlowTimeMs: 1,
});
const noRows: IngestBatch = { endpoints: [], calls: [], maxFlowTimeMs: 0 };

/** The flusher's writer as it sees it: records what each call got, fails on command. */
function recordingWriter() {
  const writes: { seq: number; rows: number; cursorEndMs: number | undefined }[] = [];
  let failNext = 0;
  const write: BatchWriter = async (batch, seq) => {
    const stored = batch.sourceState?.[CURSOR_PROPERTY];
    writes.push({
      seq,
      rows: batch.calls.length + batch.endpoints.length,
      cursorEndMs: typeof stored === 'string' ? parsePrometheusCursor(stored)?.endMs : undefined,
    });
    if (failNext > 0) {
      failNext--;
      throw new Error('connect ECONNREFUSED');
    }
    return { applied: true, seq };
  };
  return { writes, write, failNext: (n: number) => (failNext = n) };
}

function flusherOf(windows: PrometheusWindowDeltas, write: BatchWriter): GraphFlusher {
  return new GraphFlusher(
    windows,
    write,
    { flushIntervalMs: 1000, flushMaxEdges: 100, warnUnwrittenEdges: 1000, maxRetryDelayMs: 1, onBatch: (r) => void windows.settle(r) },
    createCollectorMetrics(),
    silentLogger(),
  );
}

describe('PrometheusWindowDeltas through the GraphFlusher', () => {
  it('hands the flusher each window with the cursor after it, as the batch state the writer stores with the rows', async () => {
    const windows = new PrometheusWindowDeltas();
    const writer = recordingWriter();
    const flusher = flusherOf(windows, writer.write);
    windows.put(windowRows(5), cursorAt(10));
    await flusher.flush();
    expect(windows.waiting).toBeUndefined();
    windows.put(windowRows(2), cursorAt(20));
    await flusher.flush();
    expect(writer.writes).toEqual([
      { seq: 1, rows: 3, cursorEndMs: 10 },
      { seq: 2, rows: 3, cursorEndMs: 20 },
    ]);
  });

  it('writes a window without rows when its cursor moved, so that an idle cluster still stores where it stands', async () => {
    const windows = new PrometheusWindowDeltas();
    const writer = recordingWriter();
    const flusher = flusherOf(windows, writer.write);
    windows.put(noRows, cursorAt(30));
    await flusher.flush();
    expect(writer.writes).toEqual([{ seq: 1, rows: 0, cursorEndMs: 30 }]);
  });

  it('keeps a window that failed to write waiting, retried with the same sequence and cursor, and takes no other until it is in', async () => {
    const windows = new PrometheusWindowDeltas();
    const writer = recordingWriter();
    const flusher = flusherOf(windows, writer.write);
    windows.put(windowRows(5), cursorAt(10));
    writer.failNext(1);
    await expect(flusher.flush()).rejects.toThrow(/ECONNREFUSED/);
    expect(windows.waiting?.cursor.endMs).toBe(10);
    expect(() => windows.put(windowRows(1), cursorAt(20))).toThrow(/waits for its commit/);
    await flusher.flush();
    expect(windows.waiting).toBeUndefined();
    expect(writer.writes).toEqual([
      { seq: 1, rows: 3, cursorEndMs: 10 },
      { seq: 1, rows: 3, cursorEndMs: 10 },
    ]);
  });
});

describe('GraphFlusher and batches without rows', () => {
  it('writes nothing for an empty drain without a source position (an idle flow source costs no transaction)', async () => {
    const writer = recordingWriter();
    const flusher = new GraphFlusher(
      { dirtyEdges: 0, drain: () => ({ ...noRows }) },
      writer.write,
      { flushIntervalMs: 1000, flushMaxEdges: 100, warnUnwrittenEdges: 1000 },
      createCollectorMetrics(),
      silentLogger(),
    );
    await flusher.flush();
    expect(writer.writes).toEqual([]);
  });
});
