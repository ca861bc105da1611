// At start, the records a stopped Ferry left unfinished: migrations still running in a
// hypervisor that carries them on without Ferry (QEMU) are adopted and finish their own
// records; every other unfinished record ended with the process that ran it (a simulated
// migration lives inside Ferry, so its VM stayed on the source).
import type { HostDriver, RecoveredMigration } from '../engine/driver';
import type { MigrationEngine } from '../engine/engine';
import type { Store } from '../store/store';

export const ABANDONED_REASON = 'Ferry stopped while this migration was queued or running; the VM stayed on its source host';

/**
 * `adopt`: this is the long-lived console, which can watch adopted migrations to their end.
 * A short CLI command passes false and leaves a record of a hypervisor that migrates on
 * its own alone: the next console decides.
 */
export function recoverMigrations(store: Store, engine: MigrationEngine, drivers: readonly HostDriver[], adopt: boolean): { adopted: string[]; abandoned: number; pending: Promise<void> } {
  const adopted = new Set<string>();
  const take = (driver: HostDriver, found: RecoveredMigration[]) => {
    for (const r of found) {
      const rec = r.recordId ? store.getMigration(r.recordId) : null;
      if (rec && (rec.outcome === 'running' || rec.outcome === 'queued')) {
        try {
          engine.adopt({ ...rec, outcome: 'running' }, driver, r.migration);
        } catch {
          continue; // its VM is not in the inventory: the record is abandoned below
        }
        store.claim(rec.id);
        adopted.add(rec.id);
      }
    }
  };
  // Drivers that reach their hosts over the network find their migrations once connected.
  const later: { driver: HostDriver; found: Promise<RecoveredMigration[]> }[] = [];
  for (const driver of adopt ? drivers : []) {
    const found = driver.recover();
    if (found instanceof Promise) later.push({ driver, found });
    else take(driver, found);
  }
  const waiting = new Set(later.map((l) => l.driver.kind));
  const outlives = new Set(drivers.filter((d) => d.migrationsOutliveFerry).map((d) => d.kind));
  const keep = (r: { id: string; driver: string }) => adopted.has(r.id) || waiting.has(r.driver) || (!adopt && outlives.has(r.driver));
  const abandoned = store.abandonUnfinished(ABANDONED_REASON, keep);
  if (adopted.size || abandoned) store.audit('ferry', 'recover', { adopted: [...adopted], abandoned });
  const pending = Promise.all(
    later.map(async ({ driver, found }) => {
      const before = new Set(adopted);
      take(driver, await found.catch(() => []));
      const n = store.abandonUnfinished(ABANDONED_REASON, (r) => r.driver !== driver.kind || adopted.has(r.id));
      const mine = [...adopted].filter((id) => !before.has(id));
      if (mine.length || n) store.audit('ferry', 'recover', { driver: driver.kind, adopted: mine, abandoned: n });
    }),
  )
    .then(() => undefined)
    .catch(() => undefined); // Ferry closed (the store with it) before the hosts answered
  return { adopted: [...adopted], abandoned, pending };
}
