import os from 'node:os';

/** The runs of this process that hold their collector id now (several runtimes share a process in tests and benches). */
const heldHere = new Set<string>();

/** Notes that a run of this process holds its collector id (true) or no longer does (false). */
export function noteHeldHere(runId: string, held: boolean): void {
  if (held) heldHere.add(runId);
  else heldHere.delete(runId);
}

/**
 * Whether the process of a run that holds a collector id has ended, as far as this host can tell:
 * only a holder on this host (the same host name) is judged. Its pid is this process's own while no
 * run of this process holds the id (a container restarted in its pod runs the collector under the
 * same pid again), or no process has its pid. False when this host cannot tell: another host, or a
 * live pid (perhaps another program's by now: then the claimant waits for the lease).
 */
export function holderProcessGone(holder: { runId: string; host: string | null; pid: number | null }): boolean {
  if (holder.host !== os.hostname() || holder.pid === null) return false;
  if (holder.pid === process.pid) return !heldHere.has(holder.runId);
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    // EPERM: the pid is alive, under another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
