import fs from 'node:fs';

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
 * Whether the process of a run that holds a collector id has ended, as far as this process (`here`:
 * its host name, pid, process space and slot, as its claim stores them) can tell:
 * - a holder on this host (the same host name) in the same process space (pid namespace and boot,
 *   processSpace) is judged by its pid: it is this process's own while no run of this process holds
 *   the id (a process started again under the same pid), or no process has it;
 * - a holder in the same slot (HG_COLLECTOR_SLOT, such as a Kubernetes pod's UID) but
 *   another process space is that container before it was restarted, which the kubelet does only
 *   once it has ended;
 * - false otherwise, when this process cannot tell: another host or pid namespace without a shared
 *   slot (the claimant then waits for the lease), or a live pid (perhaps another program's by now).
 */
export function holderProcessGone(
  holder: { runId: string; host: string | null; pid: number | null; space: string | null; slot: string | null },
  here: { host: string; pid: number; space: string | null; slot: string | null },
): boolean {
  const { space, slot } = here;
  if (holder.host === here.host && space !== null && holder.space === space) {
    if (holder.pid === null) return false;
    if (holder.pid === here.pid) return !heldHere.has(holder.runId);
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (err) {
      // EPERM: the pid is alive, under another user.
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return slot !== null && slot !== '' && holder.slot === slot && space !== null && holder.space !== space;
}
