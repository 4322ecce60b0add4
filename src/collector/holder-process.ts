import fs from 'node:fs';
import os from 'node:os';

/**
 * This process's pid namespace and boot, as Linux names them (`pid:[4026531836]` and the kernel's
 * boot id): a pid means the same process only within one of these. Null where they cannot be read.
 */
export function processSpace(): string | null {
  try {
    return `${fs.readlinkSync('/proc/self/ns/pid')}|${fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}`;
  } catch {
    return null;
  }
}

/** The runs of this process that hold their collector id now (several runtimes share a process in tests and benches). */
const heldHere = new Set<string>();

/** Notes that a run of this process holds its collector id (true) or no longer does (false). */
export function noteHeldHere(runId: string, held: boolean): void {
  if (held) heldHere.add(runId);
  else heldHere.delete(runId);
}

/**
 * Whether the process of a run that holds a collector id has ended, as far as this process can
 * tell: only a holder on this host (the same host name) in the same process space (pid namespace
 * and boot, processSpace) is judged. Its pid is this process's own while no run of this process
 * holds the id (a process started again under the same pid), or no process has its pid. False when
 * this process cannot tell: another host or another pid namespace (a container restarted in its pod
 * gets a new one: the claimant then waits for the lease), or a live pid (perhaps another program's
 * by now).
 */
export function holderProcessGone(holder: { runId: string; host: string | null; pid: number | null; space: string | null }): boolean {
  const space = processSpace();
  if (holder.host !== os.hostname() || holder.pid === null || space === null || holder.space !== space) return false;
  if (holder.pid === process.pid) return !heldHere.has(holder.runId);
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    // EPERM: the pid is alive, under another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
