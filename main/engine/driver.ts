// The one interface every kind of host implements, and what a driver is given to start.
// The engine never knows which driver it talks to. Drivers implement the hypervisor's
// mechanics (copy rounds, post-copy switch, throttling) and bring what the model needs to
// know about them (their calibration); the engine makes the decisions. A driver is its
// own folder plus one line in main/drivers.ts.
import type { Cluster, DriverHealth, Host, Vm, VmState, Strategy, Policy, SampleFigures, DriverKind, HostAddRequest, HostConnection, HostTestResult } from '../../preload/model';
import type { DriverCalibration } from './constants';

export type { DriverCalibration } from './constants';

export interface DriverInventory {
  hosts: Host[];
  vms: Vm[];
}

/** Only these VMs and hosts (what changed, for an inventory patch). */
export interface InventoryFilter {
  vms: ReadonlySet<string>;
  hosts: ReadonlySet<string>;
  /** Also every VM on a listed host (a range of hosts with their VMs: inventory:part). */
  vmsOnHosts?: boolean;
}

/** A driver's hosts in its inventory's order, and how many VMs it has: no figures built. */
export interface InventoryOutline {
  hosts: Array<Pick<Host, 'id' | 'cluster'>>;
  vms: number;
}

/**
 * One change a driver reports, so views patch a few objects instead of refetching all.
 * A driver that cannot say what changed reports `undefined`: refetch everything.
 */
export type DriverChange =
  | { kind: 'placement'; vmId: string; hostId: string }
  | { kind: 'vm-state'; vmId: string; state: VmState }
  | { kind: 'host-state'; hostId: string; state: 'up' | 'down' }
  /** The VM's figures (dirty rate, CPU) were measured again. */
  | { kind: 'figures'; vmId: string };

/** One progress report from the hypervisor; t is ms since the migration started. */
export interface DriverSample extends SampleFigures {
  t: number;
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

/** A migration found running in the hypervisor when the driver started (left by a Ferry that stopped). */
export interface RecoveredMigration {
  migration: DriverMigration;
  /** The engine's record id if it was given to migrate(), else null. */
  recordId: string | null;
}

/** A driver whose hosts the user adds and removes by address (libvirt). */
export interface HostAdmin {
  connections(): HostConnection[];
  test(uri: string, acceptHostKey?: string): Promise<HostTestResult>;
  add(req: HostAddRequest): Promise<HostConnection>;
  remove(name: string): void;
}

export interface HostDriver {
  readonly kind: DriverKind;
  /** What the console calls it: "Simulated datacenter", "QEMU lab". */
  readonly label: string;
  /** What this hypervisor adds to the prediction model (setup, link efficiency, pauses). */
  readonly calibration: DriverCalibration;
  /**
   * True when the hypervisor carries a migration on after Ferry stops (QEMU does; the
   * simulator lives inside Ferry). An unfinished record of such a driver may still be
   * running, so only a console that can watch it may close it.
   */
  readonly migrationsOutliveFerry: boolean;
  clusters(): Cluster[];
  /** The whole inventory, or only the VMs and hosts in `only`. */
  inventory(only?: InventoryFilter): DriverInventory;
  /**
   * What `inventory()` would list, without building it: a range of hosts (the console's
   * first screen) is then built alone. A driver without it is built whole for any range.
   */
  outline?(): InventoryOutline;
  /** Whether its hosts are reachable, in words. */
  health(): DriverHealth;
  /** Measured dirty rate of a running VM, MiB/s. */
  measureDirtyRate(vmId: string): Promise<number>;
  migrate(spec: MigrationSpec): DriverMigration;
  /**
   * Migrations still running in the hypervisor that no live Ferry watches: adopted, and
   * watched to their end from now on. Called once, by the long-lived console.
   */
  recover(): RecoveredMigration[] | Promise<RecoveredMigration[]>;
  /** Present on drivers whose hosts are added by address. */
  readonly hostAdmin?: HostAdmin;
  /**
   * Why this hypervisor would refuse to move the VM to the host, from checks it made ahead
   * (CPU compatibility, machine type, storage), in words; null when nothing stands in the way.
   * Synchronous: shown while a VM is dragged, like the capacity check.
   */
  refusal?(vmId: string, toHostId: string): string | null;
  /**
   * What migrations from one host to the other actually reached, MiB/s (the hypervisor's
   * own throughput figure, from runs no bandwidth cap held back); null: not measured yet.
   * Predictions take the lower of it and the hosts' link rate.
   */
  measuredLinkMiBps?(fromId: string, toId: string): number | null;
  /**
   * VMs whose figures (dirty rate, CPU) were measured again since `since` on the driver's
   * clock (null: report none, only the clock), and the clock now: the console polls it so the
   * figures it shows follow the measurements. Absent: figures change with placement and state.
   */
  remeasured?(since: number | null): { vmIds: string[]; now: number };
  /** Measures these VMs' workloads now if the figures are old (ids or names; others ignored). */
  freshen?(vmRefs: string[]): Promise<void>;
  /** Resolves once every host had its first connection attempt (a CLI command waits for it). */
  ready?(): Promise<void>;
  /** Milliseconds on the driver's clock (virtual for sim tests, real for QEMU). */
  now(): number;
  /** Stops watching; migrations a hypervisor runs on its own go on without Ferry. */
  dispose(): void;
}

/** The datacenter document a driver keeps in Ferry's database (the simulator's). */
export interface DatacenterStore {
  loadDatacenter<D>(): D | null;
  saveDatacenter(dc: { hosts: { id: string; cluster: string }[]; vms: { id: string; host: string }[] }): void;
  moveVm(vmId: string, hostId: string): void;
}

/** What the app gives every driver it starts. */
export interface DriverContext {
  dataDir: string;
  store: DatacenterStore;
  /** The simulated clock: 'virtual' or N times real time; undefined: the driver's own default. */
  speed?: 'virtual' | number;
  /** Report a change in the driver's inventory (undefined: refetch everything). */
  changed(e?: DriverChange): void;
}

/** One line of main/drivers.ts. */
export interface DriverFactory {
  readonly kind: DriverKind;
  create(ctx: DriverContext): HostDriver;
}
