// The `sim` host driver: the engine's HostDriver over a SimWorld.
import type { DriverInventory, HostDriver, MigrationSpec } from '../engine/driver';
import type { SimDatacenter } from './format';
import type { SimMigration } from './migration';
import { SimWorld, type SimWorldOptions } from './world';

/** QEMU's calc-dirty-rate default sampling period. */
export const DIRTY_RATE_WINDOW_MS = 1000;

export class SimDriver implements HostDriver {
  readonly kind = 'sim' as const;
  readonly world: SimWorld;

  constructor(source: SimDatacenter | SimWorld, opts: SimWorldOptions = {}) {
    this.world = source instanceof SimWorld ? source : new SimWorld(source, opts);
  }

  inventory(): DriverInventory {
    return this.world.inventory();
  }

  /** Resolves after a sampling window of the world's clock (no real wait in virtual mode). */
  measureDirtyRate(vmId: string): Promise<number> {
    return this.world.measureDirtyRate(vmId, DIRTY_RATE_WINDOW_MS);
  }

  migrate(spec: MigrationSpec): SimMigration {
    return this.world.migrate(spec);
  }

  now(): number {
    return this.world.now();
  }

  exportDatacenter(): SimDatacenter {
    return this.world.exportDatacenter();
  }

  dispose(): void {
    this.world.dispose();
  }
}
