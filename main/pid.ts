// Whether another process still runs: the owner of a record, or of a QEMU migration.
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
