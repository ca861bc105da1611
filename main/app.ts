// Wires the main-process services through their constructors. Electron's main,
// `ferry serve` and the CLI all build the same app; only the transport differs.
import type { AppInfo } from '../preload/contract';
import type { Inventory } from '../preload/model';
import { Store } from './store/store';
import { EventBus } from './events';
import { Router, type Handlers } from './router';
import { HistoryService } from './services/history';
import { generateDatacenter } from './sim/seed';
import type { SimDatacenter } from './sim/format';
import { SimWorld, type SimChange } from './sim/world';
import { InventoryChanges, type PartialInventory } from './inventory-changes';
import { SimDriver } from './sim/sim-driver';
import { QemuDriver } from './qemu/driver';
import { LAB_CLUSTER } from './qemu/lab';
import { MigrationEngine } from './engine/engine';
import { appHandlers } from './handlers/app';
import { inventoryHandlers } from './handlers/inventory';
import { migrationHandlers } from './handlers/migrations';
import { historyHandlers } from './handlers/history';
import { operator } from './data-dir';

export type Speed = 'virtual' | number;

export interface AppOptions {
  dataDir: string;
  /** Overrides the datacenter file's clock: 'virtual' or N times real time. */
  speed?: Speed;
  host: AppInfo['host'] | 'cli';
  /**
   * The console (Electron, `ferry serve`; default true): takes over QEMU migrations a
   * stopped Ferry left running and applies the samples' retention. Short CLI commands pass
   * false: they would exit long before such a migration ends, and need no housekeeping.
   */
  longLived?: boolean;
}

export interface FerryApp {
  store: Store;
  events: EventBus;
  router: Router;
  engine: MigrationEngine;
  sim: SimDriver;
  history: HistoryService;
  options: AppOptions;
  /**
   * Prints a migration's report page to PDF. Set by the host that can render the console:
   * Electron (printToPDF) or `ferry serve` (headless Chromium); null elsewhere.
   */
  printReport: ((id: string) => Promise<Buffer>) | null;
  inventory(): Inventory;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

/** First start: seed the data dir with the embedded simulated datacenter. */
function loadOrSeed(store: Store): SimDatacenter {
  const dc = store.loadDatacenter();
  if (dc) return dc;
  const seeded = generateDatacenter();
  store.saveDatacenter(seeded);
  return seeded;
}

export function createApp(options: AppOptions): FerryApp {
  const store = Store.open(options.dataDir);
  const dc = loadOrSeed(store);
  const events = new EventBus();
  // Assigned below, once inventory() exists; drivers only report changes after start.
  let changes: InventoryChanges | null = null;
  const changed = (e?: SimChange) => changes?.add(e);

  const world = new SimWorld(dc, {
    clock: options.speed ?? dc.clock,
    onChange: (e) => {
      if (e.kind === 'placement') store.moveVm(e.vmId, e.hostId);
      changed(e);
    },
  });
  const sim = new SimDriver(world);
  const qemu = new QemuDriver({ dataDir: options.dataDir, onChange: () => changed() });
  const startedBy = operator();
  const engine = new MigrationEngine({
    drivers: [sim, qemu],
    recorder: {
      insert: (r) => store.insertMigration(r),
      update: (r) => store.updateMigration(r),
      addRound: (id, sample) => store.addRound(id, sample),
    },
    startedBy,
    onProgress: (batch) => events.emit('migrations:progress', batch),
    onEnded: (rec) => events.emit('migrations:ended', rec),
  });
  const history = new HistoryService(store);
  const longLived = options.longLived !== false;
  recoverMigrations(store, engine, qemu, longLived);
  if (longLived) applyRetention(store);

  const inventory = (): Inventory => {
    const simInv = sim.inventory();
    const labInv = qemu.inventory();
    const inv = { hosts: [...simInv.hosts, ...labInv.hosts], vms: [...simInv.vms, ...labInv.vms] };
    const clusters = [...new Set(inv.hosts.map((h) => h.cluster))].map((id) => ({
      id,
      name: id === LAB_CLUSTER.id ? LAB_CLUSTER.name : dc.clusters.find((c) => c.id === id)?.name ?? id,
    }));
    return { clusters, hosts: inv.hosts, vms: inv.vms, version: changes?.version ?? 1 };
  };
  const partial: PartialInventory = (only) => {
    const part = sim.world.inventory(only);
    const lab = qemu.inventory();
    return {
      hosts: [...part.hosts, ...lab.hosts.filter((h) => only.hosts.has(h.id))],
      vms: [...part.vms, ...lab.vms.filter((v) => only.vms.has(v.id))],
    };
  };
  changes = new InventoryChanges(partial, (p) => events.emit('inventory:changed', p));
  changes.prime(inventory());

  const app: FerryApp = {
    store,
    events,
    engine,
    sim,
    history,
    options,
    inventory,
    router: undefined as unknown as Router,
    printReport: null,
    async close() {
      engine.dispose();
      changes?.dispose();
      qemu.dispose();
      world.dispose();
      store.close();
    },
  };
  const handlers: Handlers = {
    ...appHandlers(app),
    ...inventoryHandlers(app),
    ...migrationHandlers(app, startedBy),
    ...historyHandlers(app),
  };
  app.router = new Router(handlers);
  return app;
}

/**
 * At start: QEMU migrations a stopped Ferry left running are adopted and finish their own
 * records; every other unfinished record ended with the process that ran it (a simulated
 * migration lives inside Ferry, so its VM stayed on the source).
 */
/** Drops per-round samples older than the retention setting; summary rows stay. */
function applyRetention(store: Store): number {
  const pruned = store.pruneRounds(new Date(Date.now() - store.retentionDays() * 86_400_000));
  if (pruned) store.audit('ferry', 'retention', { samplesPruned: pruned, days: store.retentionDays() });
  return pruned;
}

function recoverMigrations(store: Store, engine: MigrationEngine, qemu: QemuDriver, adopt: boolean): void {
  const adopted = new Set<string>();
  for (const r of adopt ? qemu.recover() : []) {
    const rec = r.recordId ? store.getMigration(r.recordId) : null;
    if (rec && (rec.outcome === 'running' || rec.outcome === 'queued')) {
      store.claim(rec.id);
      engine.adopt({ ...rec, outcome: 'running' }, qemu, r.migration);
      adopted.add(rec.id);
    }
  }
  // Without adopting, a QEMU record may still be running in QEMU: the next console decides.
  const keep = (r: { id: string; driver: string }) => adopted.has(r.id) || (!adopt && r.driver === 'qemu');
  const abandoned = store.abandonUnfinished('Ferry stopped while this migration was queued or running; the VM stayed on its source host', keep);
  if (adopted.size || abandoned) store.audit('ferry', 'recover', { adopted: [...adopted], abandoned });
}
