// Test-only: a scripted HostDriver. Each migration does nothing on its own; the test
// emits samples, rounds and endings, and reads back what the engine asked for. Beside it,
// helpers the engine's tests and benchmarks share: an in-memory recorder, a watch of one
// migration's live progress, and a driver whose inventory does not tell the write pattern.
import type { Cluster, DriverHealth, Host, MigrationRecord, Progress, Vm } from '../../preload/model';
import type { MigrationEngine } from '../../main/engine/engine';
import { MODEL_CALIBRATION } from '../../main/engine/constants';
import type {
  DriverCalibration,
  DriverInventory,
  InventoryFilter,
  RecoveredMigration,
  DriverMigration,
  DriverResult,
  DriverSample,
  HostDriver,
  MigrationSpec,
} from '../../main/engine/driver';

const MiB = 1024 * 1024;

export function host(id: string, over: Partial<Host> = {}): Host {
  return {
    id, name: id, cluster: 'c1', rack: 'r1', driver: 'sim', cores: 32, memoryMiB: 262144, nicMiBps: 1192,
    maintenance: false, state: 'up', usage: { cpuPct: 0, memUsedMiB: 0, nicOutMiBps: 0, nicInMiBps: 0 }, ...over,
  };
}

export function vm(id: string, hostId: string, over: Partial<Vm> = {}, work: Partial<Vm['workload']> = {}): Vm {
  return {
    id, name: id, host: hostId, memoryMiB: 4096, vcpus: 2, state: 'running', cpuPct: 20, antiAffinity: null,
    workload: { zeroFraction: 0.2, wssMiB: 512, dirtyMiBps: 20, readWssMiB: 768, readMiBps: 40, ...work }, ...over,
  };
}

export class FakeMigration implements DriverMigration {
  readonly calls: string[] = [];
  phase: DriverSample['phase'] = 'precopy';
  round = 0;
  t = 0;
  throttle = 0;
  readonly done: Promise<DriverResult>;
  private resolve!: (r: DriverResult) => void;
  private listeners: ((s: DriverSample) => void)[] = [];
  private ended = false;

  constructor(readonly spec: MigrationSpec, private readonly driver: FakeDriver) {
    this.done = new Promise((r) => (this.resolve = r));
  }

  onSample(listener: (s: DriverSample) => void): void {
    this.listeners.push(listener);
  }

  startPostcopy(): void {
    this.calls.push('postcopy');
    this.phase = 'postcopy';
  }

  setThrottle(pct: number): void {
    this.calls.push(`throttle:${pct}`);
    this.throttle = pct;
  }

  cancel(): void {
    this.calls.push('cancel');
    this.end({ outcome: 'cancelled', reason: null, vmLost: false });
  }

  /** One sample; `dtMs` advances this migration's clock first. */
  sample(over: Partial<DriverSample> = {}, dtMs = 100): void {
    this.t += dtMs;
    const s: DriverSample = {
      t: this.t, phase: this.phase, round: this.round, remainingBytes: 1024 * MiB, transferredBytes: 0,
      dirtyMiBps: 50, bandwidthMiBps: 1192, expectedDowntimeMs: 1000, throttlePct: this.throttle, postcopyFaults: 0,
      roundEnded: false, ...over,
    };
    for (const l of this.listeners) l(s);
  }

  /** Closes a pre-copy pass with `remainingMiB` dirty (expected downtime from the link rate). */
  endRound(remainingMiB: number, over: Partial<DriverSample> = {}, dtMs = 1000): void {
    this.round++;
    const bw = over.bandwidthMiBps ?? 1192;
    this.sample({ remainingBytes: remainingMiB * MiB, expectedDowntimeMs: (remainingMiB / bw) * 1000, roundEnded: true, ...over }, dtMs);
  }

  complete(over: Partial<DriverResult> = {}): void {
    const vm = this.driver.vms.find((v) => v.id === this.spec.vmId)!;
    vm.host = this.spec.toId;
    this.end({ outcome: 'completed', reason: null, vmLost: false, downtimeMs: 40, ...over });
  }

  fail(reason: string, vmLost = false): void {
    if (vmLost) this.driver.vms.find((v) => v.id === this.spec.vmId)!.state = 'lost';
    this.end({ outcome: 'failed', reason, vmLost });
  }

  private end(r: Partial<DriverResult> & Pick<DriverResult, 'outcome' | 'reason' | 'vmLost'>): void {
    if (this.ended) return;
    this.ended = true;
    this.resolve({ downtimeMs: null, totalMs: this.t, bytes: 1000, rounds: this.round, postcopyFaults: null, ...r });
  }
}

export class FakeDriver implements HostDriver {
  readonly kind = 'fake';
  readonly label = 'Scripted test driver';
  /** Set a driver's calibration to see the engine price its migrations with it. */
  calibration: DriverCalibration = MODEL_CALIBRATION;
  readonly migrationsOutliveFerry = false;
  readonly migrations: FakeMigration[] = [];
  clock = 0;

  constructor(
    readonly hosts: Host[],
    readonly vms: Vm[],
  ) {}

  clusters(): Cluster[] {
    return [...new Set(this.hosts.map((h) => h.cluster))].map((id) => ({ id, name: id }));
  }

  inventory(only?: InventoryFilter): DriverInventory {
    const hosts = only ? this.hosts.filter((h) => only.hosts.has(h.id)) : this.hosts;
    const vms = only ? this.vms.filter((v) => only.vms.has(v.id)) : this.vms;
    return { hosts: hosts.map((h) => ({ ...h })), vms: vms.map((v) => ({ ...v, workload: { ...v.workload } })) };
  }

  health(): DriverHealth {
    return { state: 'ok', hosts: this.hosts.length, hostsUp: this.hosts.length, detail: 'scripted' };
  }

  recover(): RecoveredMigration[] {
    return [];
  }

  dispose(): void {}

  async measureDirtyRate(vmId: string): Promise<number> {
    return this.vms.find((v) => v.id === vmId)?.workload.dirtyMiBps ?? 0;
  }

  migrate(spec: MigrationSpec): DriverMigration {
    const m = new FakeMigration(spec, this);
    this.migrations.push(m);
    return m;
  }

  /** The migration of a VM (the latest one). */
  of(vmId: string): FakeMigration {
    const m = this.migrations.filter((x) => x.spec.vmId === vmId).at(-1);
    if (!m) throw new Error(`no migration of ${vmId} started`);
    return m;
  }

  now(): number {
    return this.clock;
  }
}

/** A recorder that keeps everything in memory. */
export class MemoryRecorder {
  readonly inserted: string[] = [];
  readonly updates: { id: string; outcome: string }[] = [];
  readonly rounds = new Map<string, number>();

  insert(rec: { id: string }): void {
    this.inserted.push(rec.id);
  }
  update(rec: { id: string; outcome: string }): void {
    this.updates.push({ id: rec.id, outcome: rec.outcome });
  }
  addRound(id: string): void {
    this.rounds.set(id, (this.rounds.get(id) ?? 0) + 1);
  }
}

/** Lets promise callbacks (the engine's handling of done) run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0));

/** One read of a migration's live progress (what the console shows), with the wall clock since the start. */
export type ProgressRead = Progress & { wallMs: number };

/**
 * Reads migration `id`'s live progress after each `pause()` until it ends (a pause of the
 * simulation's virtual clock, or of the wall clock for a real hypervisor). `t0`: Date.now()
 * taken before the migration was started; wallMs counts from it.
 */
export async function watchMigration(
  engine: MigrationEngine,
  id: string,
  pause: () => Promise<unknown>,
  t0 = Date.now(),
): Promise<{ record: MigrationRecord; reads: ProgressRead[]; wallMs: number }> {
  const reads: ProgressRead[] = [];
  let wallMs = NaN;
  const finished = engine.wait(id).finally(() => (wallMs = Date.now() - t0));
  while (Number.isNaN(wallMs)) {
    await pause();
    const p = engine.active().find((a) => a.id === id);
    if (p) reads.push({ ...p, wallMs: Date.now() - t0 });
  }
  return { record: await finished, reads, wallMs };
}

/**
 * Makes `driver`'s inventory leave out how each guest writes (as libvirt cannot tell it): the
 * model then assumes random writes, and its prediction is no longer the simulator's twin.
 */
export function hideWritePattern(driver: Pick<HostDriver, 'inventory'>): void {
  const inventory = driver.inventory.bind(driver);
  driver.inventory = (only) => {
    const inv = inventory(only);
    return { ...inv, vms: inv.vms.map((v) => ({ ...v, workload: { ...v.workload, writePattern: undefined } })) };
  };
}
