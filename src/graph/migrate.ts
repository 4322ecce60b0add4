import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { MigrationError, errorMessage } from '../errors';
import type { Logger } from '../logger';
import {
  CLAIM_MIGRATION,
  CREATE_MIGRATION_CONSTRAINT,
  FINISH_MIGRATION,
  LIST_MIGRATIONS,
  RENEW_MIGRATION_CLAIM,
  TAKE_OVER_STALE_MIGRATION,
  type MigrationRow,
} from './cypher/migration-queries';
import type { Executor } from './executor';

/** The folder of `NNNN-name.cypher` files shipped with hubble-graph. */
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations');

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly statements: readonly string[];
}

/** Splits a migration into statements: `;` at the end of a line ends one, `//` lines are comments. */
export function parseMigration(text: string): string[] {
  const lines = text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .filter((l) => !/^\s*\/\//.test(l));
  return lines
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Reads and checks the migration files of `dir`, ordered by version. */
export function readMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cypher'))
    .sort();
  const seen = new Map<number, string>();
  return files.map((file) => {
    const m = /^(\d{4})-[a-z0-9][a-z0-9-]*\.cypher$/.exec(file);
    if (!m) throw new MigrationError(`migration file "${file}" in ${dir} is not named NNNN-name.cypher`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new MigrationError(`migrations "${seen.get(version)}" and "${file}" share version ${version}`);
    seen.set(version, file);
    const text = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\r\n/g, '\n');
    const statements = parseMigration(text);
    if (statements.length === 0) throw new MigrationError(`migration "${file}" has no statements`);
    return { version, name: file, checksum: createHash('sha256').update(text).digest('hex'), statements };
  });
}

export interface MigrateOptions {
  readonly dir?: string;
  /** A claim older than this is taken to belong to a process that died (ms). */
  readonly staleClaimMs?: number;
  /** How long to wait for another process that applies a migration, from its last renewal of the claim (ms). */
  readonly waitMs?: number;
}

export interface MigrateResult {
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

function isConstraintViolation(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.includes('ConstraintValidationFailed') || /already exists with label/i.test(errorMessage(err));
}

/**
 * Applies pending migrations in order. Each applied version is stored as a `(:Migration)` node with
 * the file's checksum: an edited migration is refused, a second run changes nothing, and two
 * processes racing apply each migration once (the uniqueness constraint decides who claims it; the
 * other waits for it to finish). Statements must be idempotent (`IF NOT EXISTS`), because schema
 * commands cannot share a transaction with the claim.
 */
export async function migrate(executor: Executor, log: Logger, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = readMigrations(options.dir);
  const staleMs = options.staleClaimMs ?? 10 * 60_000;
  const waitMs = options.waitMs ?? 5 * 60_000;
  const owner = randomUUID();
  await executor.autoCommit(CREATE_MIGRATION_CONSTRAINT);
  const result: MigrateResult = { applied: [], alreadyApplied: [] };

  for (const file of files) {
    const existing = await findMigration(executor, file.version);
    if (existing) {
      checkChecksum(file, existing);
      if (existing.state === 'applied') {
        result.alreadyApplied.push(file.name);
        continue;
      }
    }
    let mine = false;
    if (!existing) {
      try {
        await executor.write(CLAIM_MIGRATION, { version: file.version, name: file.name, checksum: file.checksum, owner });
        mine = true;
      } catch (err) {
        if (!isConstraintViolation(err)) throw err;
      }
    }
    if (!mine) {
      const rows = await executor.write(TAKE_OVER_STALE_MIGRATION, { version: file.version, owner, staleMs });
      mine = rows.length > 0;
    }
    if (mine) {
      log.info({ migration: file.name, statements: file.statements.length }, 'applying migration');
      // Renewed three times per stale interval, so that no other process takes a long backfill over.
      const heartbeat = setInterval(() => {
        executor.write(RENEW_MIGRATION_CLAIM, { version: file.version, owner }).catch(() => undefined);
      }, staleMs / 3);
      try {
        for (const statement of file.statements) {
          try {
            await executor.autoCommit(statement);
          } catch (err) {
            throw new MigrationError(`migration "${file.name}" failed at:\n${statement}\n${errorMessage(err)}`);
          }
        }
      } finally {
        clearInterval(heartbeat);
      }
      await executor.write(FINISH_MIGRATION, { version: file.version, owner });
      result.applied.push(file.name);
    } else {
      await waitForOther(executor, file, waitMs);
      result.alreadyApplied.push(file.name);
    }
  }
  return result;
}

async function findMigration(executor: Executor, version: number): Promise<MigrationRow | undefined> {
  const rows = await executor.read<MigrationRow>(LIST_MIGRATIONS);
  return rows.find((r) => r.version === version);
}

function checkChecksum(file: MigrationFile, row: MigrationRow): void {
  if (row.checksum !== file.checksum) {
    throw new MigrationError(
      `migration "${file.name}" was changed after it was applied (applied checksum ${row.checksum.slice(0, 12)}, ` +
        `file checksum ${file.checksum.slice(0, 12)}); restore it and put the change in a new migration`,
    );
  }
}

/** Waits while another process applies `file`: as long as it renews its claim, and `waitMs` after the last renewal. */
async function waitForOther(executor: Executor, file: MigrationFile, waitMs: number): Promise<void> {
  let deadline = Date.now() + waitMs;
  let lastClaim: number | undefined;
  for (;;) {
    const row = await findMigration(executor, file.version);
    if (row) checkChecksum(file, row);
    if (row?.state === 'applied') return;
    if (row !== undefined && row.claimedAt !== lastClaim) {
      lastClaim = row.claimedAt;
      deadline = Date.now() + waitMs;
    }
    if (Date.now() > deadline)
      throw new MigrationError(
        `migration "${file.name}" is being applied by another process that has not renewed its claim within ${waitMs} ms`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The applied migrations, for `migrate --status`. */
export async function listAppliedMigrations(executor: Executor): Promise<MigrationRow[]> {
  return executor.read<MigrationRow>(LIST_MIGRATIONS);
}
