// Wires the main-process services through their constructors. Electron's main,
// `ferry serve` and the CLI all build the same app; only the transport differs.
// The drivers come from the registry (main/drivers.ts); the app only loops over them.
import type { AppInfo } from '../preload/contract';
import { Store, type StoreWriteError } from './store/store';
import { RecordKeeper } from './services/record-keeper';
import { EventBus } from './events';
import { Router } from './router';
import { HistoryService } from './services/history';
import { InventoryService } from './services/inventory';
import { recoverMigrations } from './services/recovery';
import { ReportPrinter } from './services/report-printer';
import { MaintenanceMarks, MaintenanceService } from './services/maintenance';
import { SettingsService } from './services/settings';
import { settingsHandlers } from './handlers/settings';
import { MigrationEngine } from './engine/engine';
import type { DriverFactory, HostDriver } from './engine/driver';
import { DRIVER_FACTORIES } from './drivers';
import { appHandlers } from './handlers/app';
import { inventoryHandlers } from './handlers/inventory';
import { migrationHandlers } from './handlers/migrations';
import { historyHandlers } from './handlers/history';
import { maintenanceHandlers } from './handlers/maintenance';
import { hostHandlers } from './handlers/hosts';
import { eventsHandlers } from './handlers/events';
import { EventsLogService } from './services/events-log';
import { HostsService } from './services/hosts';
import { operator } from './data-dir';
import { VERSION } from './version';

export type Speed = 'virtual' | number;

export interface AppOptions {
  dataDir: string;
  /** Overrides the datacenter file's clock: 'virtual' or N times real time. */
  speed?: Speed;
  host: AppInfo['host'] | 'cli';
  /**
   * The console (Electron, `ferry serve`; default true): takes over migrations a stopped
   * Ferry left running in a hypervisor and applies the samples' retention. Short CLI
   * commands pass false: they would exit long before such a migration ends, and need no
   * housekeeping.
   */
  longLived?: boolean;
  /** The drivers to run (default: every registered one). */
  drivers?: readonly DriverFactory[];
  /** How late a schedule due while no console ran may still start (default 15 min; env FERRY_SCHEDULE_GRACE_MINUTES). */
  scheduleGraceMs?: number;
  /** Told once when the disk refuses writes (default: one line on stderr). */
  onStoreRefused?: (e: StoreWriteError) => void;
}

export interface FerryApp {
  store: Store;
  /** The engine's records on their way to the store; those the disk refused wait there. */
  records: RecordKeeper;
  events: EventBus;
  router: Router;
  engine: MigrationEngine;
  drivers: readonly HostDriver[];
  inventory: InventoryService;
  history: HistoryService;
  maintenance: MaintenanceService;
  settings: SettingsService;
  /** The events log and the alarms raised from what happens. */
  eventsLog: EventsLogService;
  /** Prints a report page to PDF, once a host that can render the console installs a printer. */
  printer: ReportPrinter;
  options: AppOptions;
  close(): Promise<void>;
}

/** Finished migrations read at start to learn each link's prediction error from. */
const LEARN_SEED = 5000;

function graceFromEnv(): number | undefined {
  const v = Number(process.env.FERRY_SCHEDULE_GRACE_MINUTES);
  return Number.isFinite(v) && v >= 0 ? v * 60_000 : undefined;
}

export function createApp(options: AppOptions): FerryApp {
  const store = Store.open(options.dataDir);
  store.onRefused = options.onStoreRefused ?? ((e) => process.stderr.write(`ferry: ${e.message}\n`));
  const records = new RecordKeeper(store);
  const events = new EventBus();
  // Drivers report changes from the start; the service reports them once its events run.
  let inventory: InventoryService | null = null;
  const drivers = (options.drivers ?? DRIVER_FACTORIES).map((f) =>
    f.create({ dataDir: options.dataDir, store, speed: options.speed, changed: (e) => inventory?.changed(e) }),
  );
  const startedBy = operator();
  // The maintenance marks change a host's state in the views, as a driver's change would.
  const marks = new MaintenanceMarks(store, (hostId) => inventory?.changed({ kind: 'host-state', hostId, state: 'up' }));
  const inMaintenance = (id: string) => marks.has(id);
  inventory = new InventoryService(drivers, inMaintenance);
  const engine = new MigrationEngine({
    drivers,
    inMaintenance,
    recorder: {
      insert: (r) => records.insert(r),
      update: (r) => records.update(r),
      addRound: (id, sample) => records.addRound(id, sample),
    },
    startedBy,
    onProgress: (batch) => events.emit('migrations:progress', batch),
    onEnded: (rec) => events.emit('migrations:ended', rec),
  });
  // What the history says of the model's error on each link: the newest finished migrations, oldest first.
  for (const r of store.listMigrations({ outcome: 'completed', limit: LEARN_SEED }).rows.reverse()) engine.learner.observe(r);
  const history = new HistoryService(store);
  const printer = new ReportPrinter();
  const maintenance = new MaintenanceService(store, events, startedBy, marks, engine);
  const settings = new SettingsService(store, events, startedBy, engine);
  if (settings.loadNote) process.stderr.write(`ferry: ${settings.loadNote}\n`);
  const longLived = options.longLived !== false;
  recoverMigrations(store, engine, drivers, longLived);
  if (longLived) history.applyRetention();
  // Only the console runs schedules: a short CLI command would exit before one came due.
  if (longLived) maintenance.startScheduler(() => options.scheduleGraceMs ?? graceFromEnv() ?? settings.get().scheduleGraceMin * 60_000);
  inventory.startChanges((p) => events.emit('inventory:changed', p));
  const inv = inventory;
  const eventsLog = new EventsLogService(store, events, startedBy, inv);
  // Only the console watches hosts over time; a CLI command still records its migrations' alarms.
  if (longLived) eventsLog.start(true);

  const router = new Router({
    ...appHandlers({
      version: VERSION,
      host: options.host === 'electron' ? 'electron' : 'browser',
      dataDir: options.dataDir,
      clock: String(options.speed ?? 'real time'),
      drivers: () => inv.driverInfo(),
      diagnostics: () => {
        const m = process.memoryUsage();
        return { eventListeners: events.listenerCounts(), rssBytes: m.rss, heapUsedBytes: m.heapUsed, activeMigrations: engine.active().length };
      },
    }),
    ...inventoryHandlers(inv),
    ...migrationHandlers(engine, store, startedBy),
    ...historyHandlers(history, printer),
    ...maintenanceHandlers(engine, maintenance),
    ...hostHandlers(new HostsService(drivers, inv)),
    ...settingsHandlers(settings),
    ...eventsHandlers(eventsLog),
  });

  return {
    store,
    records,
    events,
    router,
    engine,
    drivers,
    inventory: inv,
    history,
    maintenance,
    settings,
    eventsLog,
    printer,
    options,
    async close() {
      maintenance.dispose();
      eventsLog.dispose();
      engine.dispose();
      inv.dispose();
      for (const d of drivers) d.dispose();
      // Migrations a driver ended as it stopped record their end before the store closes.
      await new Promise((r) => setImmediate(r));
      if (!records.flush()) {
        const n = records.pending;
        process.stderr.write(`ferry: ${n} migration record${n === 1 ? '' : 's'} could not be written and ${n === 1 ? 'is' : 'are'} lost: ${records.failure?.message}\n`);
      }
      store.close();
    },
  };
}
