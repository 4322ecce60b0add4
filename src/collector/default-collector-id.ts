import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/**
 * The default collector name. A following collector (`collect`, `run`, `start`) is named after the
 * host, so that a restart on the same host resumes where it left off; an `import` adds `-import-`
 * and its pid, so that it never shares the bookkeeping (batch guard, resume point) of a collector
 * running beside it, nor of another import; `import --follow` adds `-follow-`, the followed file's
 * name and a hash of its absolute path, so that a restart following the same file on the same host
 * resumes, and followers of two files do not share a resume point; the Prometheus source adds
 * `-prometheus`, so that its cursor lives on a node of its own beside a flow collector on the same host.
 */
export function defaultCollectorId(kind: 'collect' | 'import' | 'prometheus'): string;
export function defaultCollectorId(kind: 'follow', followedFile: string): string;
export function defaultCollectorId(kind: 'collect' | 'import' | 'prometheus' | 'follow', followedFile = ''): string {
  const host = os.hostname();
  if (kind === 'import') return `${host}-import-${process.pid}`;
  if (kind === 'follow') {
    const file = path.resolve(followedFile);
    return `${host}-follow-${path.basename(file)}-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`;
  }
  return kind === 'prometheus' ? `${host}-prometheus` : host;
}
