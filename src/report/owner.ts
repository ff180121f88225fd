/**
 * Which process runs a run, and whether that process is still there. A run row records its host,
 * process id and process start; a later run on the same database marks rows whose process is
 * gone 'interrupted' (src/report/sink.ts markInterruptedRuns).
 *
 * A process id alone is not enough: ids are reused, and a reboot starts them afresh. On Linux the
 * start is "BOOT_ID:TICKS" (/proc/sys/kernel/random/boot_id, and field 22 of /proc/PID/stat, the
 * start time in clock ticks since boot): another boot, or another process with the same id, is a
 * different start. Elsewhere the start is null and only the id is checked (kill(pid, 0)).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface RunOwner {
  host: string;
  pid: number;
  /** "BOOT_ID:TICKS" on Linux, null where it cannot be read. */
  start: string | null;
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || null;
  } catch {
    return null;
  }
}

/** State letter and start ticks of a process from /proc/PID/stat; null: no such process (or no /proc). */
function procStat(pid: number): { state: string; ticks: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses; the fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
  return { state: fields[0] ?? '', ticks: fields[19] ?? '' };
}

let self: RunOwner | undefined;

/** This process. */
export function currentOwner(): RunOwner {
  if (self === undefined) {
    const boot = bootId();
    const stat = boot === null ? null : procStat(process.pid);
    self = { host: hostname(), pid: process.pid, start: boot !== null && stat !== null ? `${boot}:${stat.ticks}` : null };
  }
  return self;
}

/**
 * Whether the process that owned a run is certainly gone. Unknown owners (rows from before schema
 * version 6, another host) are never declared gone: a run on another machine may be alive.
 */
export function ownerGone(owner: { host: string | null; pid: number | null; start: string | null }): boolean {
  const me = currentOwner();
  if (owner.host === null || owner.pid === null || owner.host !== me.host) return false;
  if (owner.start !== null && me.start !== null) {
    const [boot] = owner.start.split(':');
    const myBoot = me.start.split(':')[0];
    if (boot !== myBoot) return true; // the machine rebooted since
    const stat = procStat(owner.pid);
    // Gone, reused by another process, or a zombie nobody has reaped yet.
    return stat === null || `${boot}:${stat.ticks}` !== owner.start || stat.state === 'Z' || stat.state === 'X';
  }
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
