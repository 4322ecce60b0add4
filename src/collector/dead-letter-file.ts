import fs from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import type { RefusedRow } from '../graph/isolate-refused-rows';

/** One line of the dead-letter file. */
export interface DeadLetter {
  /** When it was refused (ISO 8601). */
  readonly time: string;
  readonly collectorId: string;
  readonly kind: RefusedRow['kind'];
  readonly id: string;
  /** Neo4j's reason. */
  readonly reason: string;
  /** The row as the collector would have written it. */
  readonly row: RefusedRow['row'];
}

/**
 * Appends refused rows to the dead-letter file as JSON lines (creating its folder). When the file
 * cannot be written (a read-only disk), the rows are logged at error level instead: they are never
 * silently gone, and the collector goes on.
 */
export async function appendDeadLetters(file: string, collectorId: string, rows: readonly RefusedRow[], log: Logger): Promise<void> {
  if (rows.length === 0) return;
  const time = new Date().toISOString();
  const lines = rows.map((r) =>
    JSON.stringify({ time, collectorId, kind: r.kind, id: r.id, reason: r.reason, row: r.row } satisfies DeadLetter),
  );
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, `${lines.join('\n')}\n`);
    const [first] = rows;
    log.error(
      { file, rows: rows.length, first: first && { kind: first.kind, id: first.id.slice(0, 200), reason: first.reason } },
      'Neo4j refused rows for good; they went to the dead-letter file, the rest of the batch is written',
    );
  } catch (err) {
    log.error(
      { file, err: errorMessage(err), deadLetters: lines.map((l) => l.slice(0, 2000)) },
      'Neo4j refused rows for good and the dead-letter file cannot be written; the rows are in this log line',
    );
  }
}
