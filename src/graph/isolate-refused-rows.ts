import { errorMessage } from '../errors';
import type { CallRow, EndpointRow, IngestBatch } from '../model/ingest-rows';

/** A row Neo4j refused for good, with Neo4j's reason: it goes to the dead-letter file. */
export interface RefusedRow {
  readonly kind: 'endpoint' | 'call';
  /** The endpoint id or the call key. */
  readonly id: string;
  readonly reason: string;
  readonly row: EndpointRow | CallRow;
}

/** Runs the write of a batch and rolls it back; rejects with Neo4j's error when it would not commit. */
export type BatchProbe = (batch: IngestBatch) => Promise<void>;

export interface IsolatedRows {
  /** The batch without the refused rows (same times and resume point). */
  readonly kept: IngestBatch;
  readonly refused: RefusedRow[];
  /** Probe transactions run (each rolled back). */
  readonly probes: number;
}

/**
 * Finds the rows of a batch that Neo4j refuses, by halving: a part that the probe accepts is kept
 * whole, a refused part is split until single rows remain. Endpoints are isolated first; a call
 * whose endpoint was refused is refused with it (it could not be written without it), the other
 * calls are probed with the endpoints they need. Nothing is committed: the caller writes `kept` in
 * one transaction, so a batch still counts once. With k bad rows among n, about 2k·log2(n) probes.
 *
 * Rejects with the probe's error when even the batch without any rows is refused, or when an error
 * is not a refusal (`isRefusal` false: Neo4j went away meanwhile): then no row is to blame.
 */
export async function isolateRefusedRows(
  batch: IngestBatch,
  probe: BatchProbe,
  isRefusal: (err: unknown) => boolean,
): Promise<IsolatedRows> {
  let probes = 0;
  const base: IngestBatch = { endpoints: [], calls: [], maxFlowTimeMs: batch.maxFlowTimeMs, resume: batch.resume };
  const attempt = async (part: IngestBatch): Promise<unknown> => {
    probes++;
    try {
      await probe(part);
      return undefined;
    } catch (err) {
      if (!isRefusal(err)) throw err;
      return err;
    }
  };
  const empty = await attempt(base);
  if (empty !== undefined) throw empty;

  async function bisect<R>(rows: R[], test: (rows: R[]) => Promise<unknown>, out: Array<{ row: R; err: unknown }>): Promise<void> {
    if (rows.length === 0) return;
    const err = await test(rows);
    if (err === undefined) return;
    const [only] = rows;
    if (rows.length === 1 && only !== undefined) {
      out.push({ row: only, err });
      return;
    }
    const mid = rows.length >> 1;
    await bisect(rows.slice(0, mid), test, out);
    await bisect(rows.slice(mid), test, out);
  }

  const badEndpoints: Array<{ row: EndpointRow; err: unknown }> = [];
  await bisect(batch.endpoints, (endpoints) => attempt({ ...base, endpoints }), badEndpoints);
  const refusedIds = new Map(badEndpoints.map((b) => [b.row.id, errorMessage(b.err)]));
  const endpoints = batch.endpoints.filter((e) => !refusedIds.has(e.id));
  const byId = new Map(endpoints.map((e) => [e.id, e]));

  const orphaned: RefusedRow[] = [];
  const candidates: CallRow[] = [];
  for (const call of batch.calls) {
    const missing = refusedIds.has(call.sourceId) ? call.sourceId : refusedIds.has(call.destinationId) ? call.destinationId : undefined;
    if (missing === undefined) candidates.push(call);
    else
      orphaned.push({ kind: 'call', id: call.key, reason: `its endpoint ${missing} was refused: ${refusedIds.get(missing)}`, row: call });
  }
  const needed = (calls: CallRow[]) => {
    const ids = new Set<string>();
    for (const c of calls) ids.add(c.sourceId).add(c.destinationId);
    return [...ids].flatMap((id) => byId.get(id) ?? []);
  };
  const badCalls: Array<{ row: CallRow; err: unknown }> = [];
  await bisect(candidates, (calls) => attempt({ ...base, endpoints: needed(calls), calls }), badCalls);
  const badKeys = new Set(badCalls.map((b) => b.row.key));

  const refused: RefusedRow[] = [
    ...badEndpoints.map((b): RefusedRow => ({ kind: 'endpoint', id: b.row.id, reason: errorMessage(b.err), row: b.row })),
    ...orphaned,
    ...badCalls.map((b): RefusedRow => ({ kind: 'call', id: b.row.key, reason: errorMessage(b.err), row: b.row })),
  ];
  const kept: IngestBatch = { ...batch, endpoints, calls: candidates.filter((c) => !badKeys.has(c.key)) };
  return { kept, refused, probes };
}
