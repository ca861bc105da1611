// The one interface every kind of host implements (sim now; qemu and libvirt later).
// The engine never knows which driver it talks to. Drivers implement the hypervisor's
// mechanics (copy rounds, post-copy switch, throttling); the engine makes the decisions.
import type { Host, Vm, Strategy, Policy, Phase, DriverKind } from '../../preload/model';

export interface DriverInventory {
  hosts: Host[];
  vms: Vm[];
}

/** One progress report from the hypervisor; t is ms since the migration started. */
export interface DriverSample {
  t: number;
  phase: Phase;
  /** Completed dirty-sync passes (pre-copy rounds). */
  round: number;
  remainingBytes: number;
  transferredBytes: number;
  dirtyMiBps: number;
  bandwidthMiBps: number;
  /** remaining / bandwidth, the pause a switchover now would cost. */
  expectedDowntimeMs: number;
  throttlePct: number;
  postcopyFaults: number;
  /** True on the sample that closes a dirty-sync pass. */
  roundEnded: boolean;
}

export interface DriverResult {
  outcome: 'completed' | 'failed' | 'cancelled';
  /** Why it failed, in words a person can act on. */
  reason: string | null;
  /** True when the VM no longer runs anywhere (post-copy with a dead link). */
  vmLost: boolean;
  downtimeMs: number | null;
  totalMs: number;
  bytes: number;
  rounds: number;
  postcopyFaults: number | null;
}

export interface MigrationSpec {
  vmId: string;
  fromId: string;
  toId: string;
  /** The mechanism to start with. `hybrid` starts as pre-copy with post-copy enabled; the engine decides the switch. */
  strategy: Strategy;
  policy: Policy;
  /**
   * The engine's record id. A driver whose migrations outlive Ferry (QEMU) keeps it with
   * the migration, so a restarted Ferry can finish that very record instead of a new one.
   */
  recordId?: string;
}

export interface DriverMigration {
  onSample(listener: (s: DriverSample) => void): void;
  /** Pre-copy -> post-copy now (needs strategy postcopy or hybrid). */
  startPostcopy(): void;
  /** Throttle the guest's vCPUs to lower its dirty rate (auto-converge), 0..99 %. */
  setThrottle(pct: number): void;
  cancel(): void;
  readonly done: Promise<DriverResult>;
}

export interface HostDriver {
  readonly kind: DriverKind;
  inventory(): DriverInventory;
  /** Measured dirty rate of a running VM, MiB/s. */
  measureDirtyRate(vmId: string): Promise<number>;
  migrate(spec: MigrationSpec): DriverMigration;
  /** Milliseconds on the driver's clock (virtual for sim tests, real for QEMU). */
  now(): number;
}
