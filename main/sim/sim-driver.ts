// The `sim` host driver: the engine's HostDriver over a SimWorld, and its registration:
// the datacenter document lives in Ferry's database, seeded with the embedded one on the
// first start, and every placement the world makes is written back to it.
import type { Cluster, DriverHealth } from '../../preload/model';
import { MODEL_CALIBRATION } from '../engine/constants';
import type { DriverFactory, DriverInventory, HostDriver, InventoryFilter, InventoryOutline, MigrationSpec, RecoveredMigration } from '../engine/driver';
import type { SimDatacenter } from './format';
import type { SimMigration } from './migration';
import { generateDatacenter } from './seed';
import { SimWorld, type SimWorldOptions } from './world';
import { StoreWriteError } from '../store/store';

/** QEMU's calc-dirty-rate default sampling period. */
export const DIRTY_RATE_WINDOW_MS = 1000;

/** The simulator has none of a real hypervisor's overheads: the model alone. */
export const SIM_CALIBRATION = MODEL_CALIBRATION;

export class SimDriver implements HostDriver {
  readonly kind = 'sim';
  readonly label = 'Simulated datacenter';
  readonly calibration = SIM_CALIBRATION;
  /** A simulated migration lives inside Ferry: it ends with the process. */
  readonly migrationsOutliveFerry = false;
  readonly world: SimWorld;

  constructor(source: SimDatacenter | SimWorld, opts: SimWorldOptions = {}) {
    this.world = source instanceof SimWorld ? source : new SimWorld(source, opts);
  }

  clusters(): Cluster[] {
    return this.world.clusters();
  }

  inventory(only?: InventoryFilter): DriverInventory {
    return this.world.inventory(only);
  }

  outline(): InventoryOutline {
    return this.world.outline();
  }

  health(): DriverHealth {
    // Counted from the hosts' states: the console asks often, and a 40,000-VM inventory built
    // for it took 30-50 ms of the server's time.
    const { hosts, up } = this.world.hostCounts();
    if (!hosts) return { state: 'empty', hosts: 0, hostsUp: 0, detail: 'no simulated hosts (ferry sim load <file.json>)' };
    const down = hosts - up;
    return {
      state: down ? 'degraded' : 'ok',
      hosts,
      hostsUp: up,
      detail: down ? `${hosts} simulated hosts, ${down} down` : `${hosts} simulated hosts, all up`,
    };
  }

  /** Resolves after a sampling window of the world's clock (no real wait in virtual mode). */
  measureDirtyRate(vmId: string): Promise<number> {
    return this.world.measureDirtyRate(vmId, DIRTY_RATE_WINDOW_MS);
  }

  migrate(spec: MigrationSpec): SimMigration {
    return this.world.migrate(spec);
  }

  /** Nothing to adopt: simulated migrations never outlive the process that ran them. */
  recover(): RecoveredMigration[] {
    return [];
  }

  now(): number {
    return this.world.now();
  }

  remeasured(since: number | null): { vmIds: string[]; now: number } {
    return this.world.remeasured(since);
  }

  exportDatacenter(): SimDatacenter {
    return this.world.exportDatacenter();
  }

  dispose(): void {
    this.world.dispose();
  }
}

export const simDriver: DriverFactory = {
  kind: 'sim',
  create(ctx) {
    let dc = ctx.store.loadDatacenter<SimDatacenter>();
    if (!dc) {
      dc = generateDatacenter();
      ctx.store.saveDatacenter(dc);
    }
    // Placements the disk refused to write wait here (the store told why) and go with the next one.
    const unsaved = new Map<string, string>();
    const savePlacements = () => {
      for (const [vm, host] of unsaved) {
        try {
          ctx.store.moveVm(vm, host);
        } catch (e) {
          if (e instanceof StoreWriteError) return;
          throw e;
        }
        unsaved.delete(vm);
      }
    };
    const world = new SimWorld(dc, {
      clock: ctx.speed ?? dc.clock,
      onChange: (e) => {
        if (e.kind === 'placement') {
          unsaved.delete(e.vmId);
          unsaved.set(e.vmId, e.hostId);
          savePlacements();
        }
        ctx.changed(e);
      },
    });
    return new SimDriver(world);
  },
};
