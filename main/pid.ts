// Whether another process still runs: the owner of a record, of a QEMU migration, or of
// the data directory.
import fs from 'node:fs';

/** True if `pid` names a live process (EPERM: alive, but someone else's). */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Linux: a process's state letter and start time (clock ticks since boot; a reused pid has another). */
export function procStat(pid: number): { state: string; startTicks: string } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, startTicks: rest[19]! };
  } catch {
    return null;
  }
}
