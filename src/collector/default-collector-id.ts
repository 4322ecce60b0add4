import os from 'node:os';

/**
 * The default collector name. A following collector (`collect`, `run`, `start`) is named after the
 * host, so that a restart on the same host resumes where it left off; an `import` adds `-import-`
 * and its pid, so that it never shares the bookkeeping (batch guard, resume point) of a collector
 * running beside it, nor of another import; the Prometheus source adds `-prometheus`, so that its
 * cursor lives on a node of its own beside a flow collector on the same host.
 */
export function defaultCollectorId(kind: 'collect' | 'import' | 'prometheus'): string {
  const host = os.hostname();
  if (kind === 'import') return `${host}-import-${process.pid}`;
  return kind === 'prometheus' ? `${host}-prometheus` : host;
}
