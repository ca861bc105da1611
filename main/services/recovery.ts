// At start, the records a stopped Ferry left unfinished: migrations still running in a
// hypervisor that carries them on without Ferry (QEMU) are adopted and finish their own
// records; every other unfinished record ended with the process that ran it (a simulated
// migration lives inside Ferry, so its VM stayed on the source).
import type { HostDriver } from '../engine/driver';
import type { MigrationEngine } from '../engine/engine';
import type { Store } from '../store/store';

export const ABANDONED_REASON = 'Ferry stopped while this migration was queued or running; the VM stayed on its source host';

/**
 * `adopt`: this is the long-lived console, which can watch adopted migrations to their end.
 * A short CLI command passes false and leaves a record of a hypervisor that migrates on
 * its own alone: the next console decides.
 */
export function recoverMigrations(store: Store, engine: MigrationEngine, drivers: readonly HostDriver[], adopt: boolean): { adopted: string[]; abandoned: number } {
  const adopted = new Set<string>();
  for (const driver of adopt ? drivers : []) {
    for (const r of driver.recover()) {
      const rec = r.recordId ? store.getMigration(r.recordId) : null;
      if (rec && (rec.outcome === 'running' || rec.outcome === 'queued')) {
        store.claim(rec.id);
        engine.adopt({ ...rec, outcome: 'running' }, driver, r.migration);
        adopted.add(rec.id);
      }
    }
  }
  const outlives = new Set(drivers.filter((d) => d.migrationsOutliveFerry).map((d) => d.kind));
  const keep = (r: { id: string; driver: string }) => adopted.has(r.id) || (!adopt && outlives.has(r.driver));
  const abandoned = store.abandonUnfinished(ABANDONED_REASON, keep);
  if (adopted.size || abandoned) store.audit('ferry', 'recover', { adopted: [...adopted], abandoned });
  return { adopted: [...adopted], abandoned };
}
