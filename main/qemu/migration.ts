// One live migration between two QEMU processes, driven over QMP. The engine takes the
// decisions (post-copy switch, throttle, cancel); this file carries them out and reports
// what QEMU says: a sample per poll of query-migrate and per dirty-sync pass.
import type { DriverMigration, DriverResult, DriverSample, MigrationSpec } from '../engine/driver';
import type { Phase } from '../../preload/model';
import { qemuArgs } from './guest';
import { readLab, updateLab, type LabHost, type LabMigration, type LabVm } from './lab-state';
import { QmpClient, type QmpError } from './qmp';
import { socketDir, type HostRunner } from './runner';
import { figuresOf, migrationSettings, PHASES, sampleOf, type QemuFigures, type QueryMigrate } from './qmp-migrate';

export type { QemuFigures } from './qmp-migrate';
import fs from 'node:fs';
import path from 'node:path';

/** QEMU's figures of a migration, and the time the lab took before QEMU was told to migrate. */
export interface QemuRunFigures extends QemuFigures {
  /** From Ferry's start to the source's `migrate` (the destination QEMU started meanwhile), ms; null when not known (adopted). */
  destinationStartMs: number | null;
}

export interface QemuDriverResult extends DriverResult {
  qemu: QemuRunFigures | null;
}

export interface MigrationContext {
  dataDir: string;
  runner: HostRunner;
  pollMs: number;
  /** Called when the lab's placement changed (a VM moved or was lost). */
  changed(): void;
  /** Called when this migration ended (the driver forgets it). */
  ended(id: string): void;
}

export class QemuMigration implements DriverMigration {
  readonly done: Promise<QemuDriverResult>;
  private resolve!: (r: QemuDriverResult) => void;
  private listeners: ((s: DriverSample) => void)[] = [];
  private src: QmpClient | null = null;
  private dst: QmpClient | null = null;
  private last: DriverSample | null = null;
  private lastRound = 0;
  private cancelRequested = false;
  private postcopyRequested = false;
  private throttleEnabled = false;
  private polling = false;
  private pollAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private finished = false;
  private stoppedAt: number | null = null;
  /** QEMU reported post-copy: from then on the source must never be resumed by us. */
  private sawPostcopy = false;

  constructor(
    private readonly ctx: MigrationContext,
    private rec: LabMigration,
    private readonly adopted: boolean,
  ) {
    this.done = new Promise((r) => (this.resolve = r));
  }

  get id(): string {
    return this.rec.id;
  }

  get vmId(): string {
    return this.rec.vmId;
  }

  onSample(listener: (s: DriverSample) => void): void {
    this.listeners.push(listener);
  }

  startPostcopy(): void {
    if (this.rec.strategy !== 'postcopy' && this.rec.strategy !== 'hybrid') return;
    this.postcopyRequested = true;
    this.src?.execute('migrate-start-postcopy').catch(() => {});
  }

  setThrottle(pct: number): void {
    if (!this.throttleEnabled || !this.src) return;
    const p = Math.max(1, Math.min(99, Math.round(pct)));
    // QEMU 7.2 has no "throttle now" command: auto-converge applies cpu-throttle-initial
    // (first time) or +increment capped at max-cpu-throttle at its next high-dirty sync.
    this.src.execute('migrate-set-parameters', { 'cpu-throttle-initial': p, 'max-cpu-throttle': p }).catch(() => {});
  }

  cancel(): void {
    if (this.cancelRequested || this.finished) return;
    this.cancelRequested = true;
    if (this.last?.phase === 'postcopy') return; // the VM already runs on the destination
    this.src?.execute('migrate_cancel').catch(() => {});
  }

  /** Watching without touching QEMU stops (a Ferry that stops leaves the migration running). */
  detach(): void {
    if (this.timer) clearInterval(this.timer);
    this.finished = true;
    this.src?.close();
    this.dst?.close();
  }

  private emit(s: DriverSample): void {
    this.last = s;
    for (const l of this.listeners) {
      try {
        l(s);
      } catch {
        // a listener's bug must not stop the migration's bookkeeping
      }
    }
  }

  private t(): number {
    return Date.now() - this.rec.startedAt;
  }

  /** Starts the destination and the migration (or, adopted, just the watching). */
  async run(): Promise<void> {
    try {
      if (this.adopted) await this.connect();
      else await this.setupTicking();
      if (this.finished) {
        // Detached while connecting: close what the connect opened after detach() ran,
        // or its sockets keep the process alive.
        this.src?.close();
        this.dst?.close();
        return;
      }
      this.src!.onEvent((e) => {
        if (e.event === 'MIGRATION_PASS' || e.event === 'MIGRATION') void this.poll();
        if (e.event === 'STOP' && this.stoppedAt === null) this.stoppedAt = Date.now();
      });
      this.timer = setInterval(() => void this.poll(), this.ctx.pollMs);
      void this.poll();
    } catch (e) {
      await this.fail(this.setupFailure(e));
    }
  }

  private lab(): { vm: LabVm; from: LabHost; to: LabHost } {
    const s = readLab(this.ctx.dataDir);
    if (!s) throw new Error('the lab is down');
    const vm = s.vms.find((v) => v.id === this.rec.vmId);
    const from = s.hosts.find((h) => h.id === this.rec.fromId);
    const to = s.hosts.find((h) => h.id === this.rec.toId);
    if (!vm || !from || !to) throw new Error(`the lab has no ${!vm ? `VM ${this.rec.vmId}` : `host ${!from ? this.rec.fromId : this.rec.toId}`}`);
    return { vm, from, to };
  }

  private async connect(): Promise<void> {
    const { vm } = this.lab();
    this.src = await QmpClient.connectWithRetry(this.ctx.runner.qmpTarget(vm.qmp), 5000);
    if (this.ctx.runner.isRunning(this.rec.dest)) {
      this.dst = await QmpClient.connectWithRetry(this.ctx.runner.qmpTarget(this.rec.destQmp), 5000).catch(() => null);
    }
  }

  /**
   * setup(), with a 'setup' sample every pollMs meanwhile: starting the destination takes
   * seconds (it preallocates the guest's memory), and without samples the console's elapsed
   * time would stand still at the first one's.
   */
  private async setupTicking(): Promise<void> {
    const tick = setInterval(() => {
      if (!this.finished && this.last?.phase === 'setup') this.emit(this.sample('setup', {}));
    }, this.ctx.pollMs);
    try {
      await this.setup();
    } finally {
      clearInterval(tick);
    }
  }

  private async setup(): Promise<void> {
    const { runner } = this.ctx;
    const { vm, to } = this.lab();
    const { policy, strategy } = this.rec;
    // The destination: the same machine arguments, plus -incoming defer.
    const gen = vm.generation + 1;
    const sock = socketDir(runner.hostDir(to.id));
    const where = { qmp: path.join(sock, `${vm.name}.g${gen}.qmp`), mon: path.join(sock, `${vm.name}.g${gen}.mon`), serial: path.join(runner.hostDir(to.id), `${vm.name}.serial`) };
    const state = readLab(this.ctx.dataDir)!;
    const guest = { vmId: vm.id, name: vm.name, memoryMiB: vm.memoryMiB, vcpus: vm.vcpus, wssMiB: vm.wssMiB, dirtyMiBps: vm.dirtyMiBps, order: vm.order, kernel: state.kernel, initrd: state.initrd };
    const port = await runner.freePort(to);
    runner.prepareHost(to);
    const dest = runner.startQemu(to.id, `${vm.name}.g${gen}`, qemuArgs(guest, where, true), where.qmp);
    this.rec = { ...this.rec, port, dest, destQmp: where.qmp, destMon: where.mon, destSerial: where.serial };
    updateLab(this.ctx.dataDir, (s) => {
      s.migrations.push(this.rec);
    });
    this.emit(this.sample('setup', {}));
    // The destination answers once it holds the guest's memory (-mem-prealloc): up to
    // about 7 s per GiB on this kind of machine when that memory is cold.
    const destReadyMs = 10_000 + vm.memoryMiB * 20;
    this.dst = await QmpClient.connectWithRetry(runner.qmpTarget(where.qmp), destReadyMs, { connectTimeoutMs: destReadyMs });
    this.src = await QmpClient.connectWithRetry(runner.qmpTarget(vm.qmp), 5000);
    if (this.cancelRequested) throw new CancelledInSetup();

    const settings = migrationSettings(strategy, policy, to.nicMiBps);
    this.throttleEnabled = settings.throttle;
    await this.src.execute('migrate-set-capabilities', { capabilities: settings.capabilities });
    await this.dst.execute('migrate-set-capabilities', { capabilities: settings.capabilities });
    await this.src.execute('migrate-set-parameters', settings.parameters);
    const uri = runner.migrationUri(to, port);
    await this.dst.execute('migrate-incoming', { uri });
    if (strategy === 'stop-and-copy') {
      await this.src.execute('stop');
      this.stoppedAt = Date.now();
    }
    if (this.cancelRequested) throw new CancelledInSetup();
    const migrateAt = Date.now();
    await this.src.execute('migrate', { uri });
    updateLab(this.ctx.dataDir, (s) => {
      const m = s.migrations.find((x) => x.id === this.rec.id);
      if (m) Object.assign(m, { started: true, migrateAt });
    });
    Object.assign(this.rec, { started: true, migrateAt });
    if (this.postcopyRequested) this.src.execute('migrate-start-postcopy').catch(() => {});
  }

  private figures(q: QueryMigrate): QemuRunFigures {
    return { ...figuresOf(q), destinationStartMs: this.rec.migrateAt ? this.rec.migrateAt - this.rec.startedAt : null };
  }

  private sample(phase: Phase, q: QueryMigrate, t = this.t()): DriverSample {
    const s = sampleOf(q, phase, t, this.last, this.lastRound);
    this.lastRound = Math.max(this.lastRound, s.round);
    return s;
  }

  private async poll(): Promise<void> {
    if (this.finished || !this.src) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        const q = await this.src.execute<QueryMigrate>('query-migrate', undefined, { timeoutMs: 5000 });
        if (this.finished) return;
        await this.observe(q);
      } while (this.pollAgain && !this.finished);
    } catch (e) {
      if (!this.finished) await this.onSourceLost(e as QmpError);
    } finally {
      this.polling = false;
    }
  }

  private async observe(first: QueryMigrate): Promise<void> {
    let q = first;
    const status = q.status ?? 'none';
    const phase = PHASES[status] ?? 'precopy';
    if (status === 'completed') {
      // QEMU sets 'completed' a moment before it computes total-time and downtime.
      for (let i = 0; i < 40 && !q['total-time'] && this.src; i++) {
        await new Promise((r) => setTimeout(r, 25));
        q = await this.src.execute<QueryMigrate>('query-migrate', undefined, { timeoutMs: 2000 }).catch(() => q);
      }
      return this.complete(q);
    }
    if (status === 'failed' || status === 'cancelled') return this.endUnfinished(q);
    if (status === 'postcopy-paused' && !this.ctx.runner.isRunning(this.rec.dest)) return this.lostInPostcopy(q);
    if (phase === 'postcopy') this.sawPostcopy = true;
    if (phase !== 'done') this.emit(this.sample(phase, q));
    // A destination that died: QEMU notices on its next write; do not wait for ever.
    if (!this.ctx.runner.isRunning(this.rec.dest) && (phase === 'precopy' || phase === 'setup')) {
      this.destDeadSince ??= Date.now();
      if (Date.now() - this.destDeadSince > 3000) this.src?.execute('migrate_cancel').catch(() => {});
    }
  }
  private destDeadSince: number | null = null;

  private async complete(q: QueryMigrate): Promise<void> {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    const { runner } = this.ctx;
    const figures = this.figures(q);
    // A migration's time, on every driver: from Ferry's start until the VM runs on the
    // destination, the destination's start included. QEMU's total-time counts from its
    // `migrate`: the time before that is added (the poll's clock only when it is not known).
    const endMs = Math.max(this.last?.t ?? 0, figures.destinationStartMs !== null && figures.totalTimeMs !== null ? figures.destinationStartMs + figures.totalTimeMs : this.t());
    // The pass(es) QEMU finished between two polls, and the switchover, as one closing sample.
    if (this.last && this.last.phase === 'precopy') this.emit(this.sample('switchover', q, endMs));
    // The guest runs on the destination now (a stopped guest was stopped before: resume it).
    const dst = this.dst ?? (await QmpClient.connectWithRetry(runner.qmpTarget(this.rec.destQmp), 5000).catch(() => null));
    let downtimeMs = q.downtime ?? null;
    if (dst) {
      const st = await dst.execute<{ status: string }>('query-status').catch(() => null);
      if (this.rec.strategy === 'stop-and-copy' && st?.status !== 'running') {
        await dst.execute('cont').catch(() => {});
        if (this.stoppedAt !== null) downtimeMs = Date.now() - this.stoppedAt;
      }
    }
    // The source process is done: quit it, then make the destination the VM's home.
    await this.src?.execute('quit', undefined, { timeoutMs: 2000 }).catch(() => {});
    this.src?.close();
    dst?.close();
    const { vm } = this.lab();
    await runner.stop(vm.proc, 3000);
    updateLab(this.ctx.dataDir, (s) => {
      const v = s.vms.find((x) => x.id === this.rec.vmId);
      if (v) Object.assign(v, { host: this.rec.toId, proc: this.rec.dest, qmp: this.rec.destQmp, mon: this.rec.destMon, serial: this.rec.destSerial, generation: v.generation + 1 });
      s.migrations = s.migrations.filter((m) => m.id !== this.rec.id);
    });
    this.ctx.changed();
    this.emit({ ...this.sample('done', q, endMs), roundEnded: false });
    this.settle({
      outcome: 'completed', reason: null, vmLost: false, downtimeMs, totalMs: endMs,
      bytes: figures.transferredBytes, rounds: Math.max(0, figures.dirtySyncCount - 1), postcopyFaults: this.rec.strategy === 'postcopy' || this.rec.strategy === 'hybrid' ? figures.postcopyRequests : null, qemu: figures,
    });
  }

  /** Failed or cancelled in pre-copy: QEMU resumes the guest on the source. */
  private async endUnfinished(q: QueryMigrate): Promise<void> {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    const { runner } = this.ctx;
    const destDied = !runner.isRunning(this.rec.dest);
    const figures = this.figures(q);
    // The guest must run on the source: check, and resume it if QEMU left it paused.
    const srcProc = readLab(this.ctx.dataDir)?.vms.find((v) => v.id === this.rec.vmId)?.proc;
    let srcStatus = await this.src?.execute<{ status: string }>('query-status').catch(() => null);
    // After the switch to post-copy the guest may have run on the destination: resuming the
    // source would run an older copy of it. Only QEMU may do that (when the destination
    // never started the guest); if it did not, the VM is lost.
    if (this.sawPostcopy) {
      if (srcStatus?.status !== 'running') return this.lostInPostcopy(q);
      await this.cleanupDest();
      this.src?.close();
      this.emit({ ...this.sample('done', q), roundEnded: false });
      this.settle({
        outcome: 'failed',
        reason: `the destination QEMU on ${this.rec.toId} (pid ${this.rec.dest.pid}) died right after the switch to post-copy, before the guest ran there; QEMU resumed it on ${this.rec.fromId}`,
        vmLost: false, downtimeMs: null, totalMs: this.t(), bytes: figures.transferredBytes,
        rounds: Math.max(0, figures.dirtySyncCount - 1), postcopyFaults: figures.postcopyRequests, qemu: figures,
      });
      return;
    }
    if (srcStatus && srcStatus.status !== 'running' && this.rec.strategy !== 'stop-and-copy') {
      await this.src?.execute('cont').catch(() => {});
      srcStatus = await this.src?.execute<{ status: string }>('query-status').catch(() => null);
    } else if (this.rec.strategy === 'stop-and-copy') {
      await this.src?.execute('cont').catch(() => {});
      srcStatus = await this.src?.execute<{ status: string }>('query-status').catch(() => null);
    }
    await this.cleanupDest();
    const where = srcStatus?.status === 'running' ? `the VM keeps running on ${this.rec.fromId}` : `the VM is ${srcStatus?.status ?? 'unreachable'} on ${this.rec.fromId}`;
    let reason: string;
    let outcome: DriverResult['outcome'];
    if (q.status === 'cancelled' || (this.cancelRequested && !destDied)) {
      // (After a cancel the destination exits by itself: that is not a death.)
      outcome = 'cancelled';
      reason = `cancelled; ${where}`;
    } else if (destDied) {
      outcome = 'failed';
      reason = `the destination QEMU on ${this.rec.toId} (pid ${this.rec.dest.pid}) died mid-migration${figures.errorDesc ? ` (source: ${figures.errorDesc})` : ''}; ${where}`;
    } else {
      outcome = 'failed';
      reason = `QEMU reported the migration failed: ${figures.errorDesc ?? 'no error description'}; ${where}`;
    }
    this.src?.close();
    this.emit({ ...this.sample('done', q), roundEnded: false });
    this.settle({
      outcome, reason, vmLost: srcProc ? !runner.isRunning(srcProc) : true, downtimeMs: null, totalMs: this.t(),
      bytes: figures.transferredBytes, rounds: Math.max(0, figures.dirtySyncCount - 1), postcopyFaults: null, qemu: figures,
    });
  }

  private async lostInPostcopy(q: QueryMigrate): Promise<void> {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    const figures = this.figures(q);
    await this.cleanupDest();
    updateLab(this.ctx.dataDir, (s) => {
      s.migrations = s.migrations.filter((m) => m.id !== this.rec.id);
      const v = s.vms.find((x) => x.id === this.rec.vmId);
      if (v) v.lost = true;
    });
    this.src?.close();
    this.ctx.changed();
    this.settle({
      outcome: 'failed',
      reason: `VM LOST: the destination QEMU on ${this.rec.toId} (pid ${this.rec.dest.pid}) died during post-copy; the guest ran there with part of its memory still on ${this.rec.fromId} (the source QEMU is paused in postcopy-paused)`,
      vmLost: true, downtimeMs: null, totalMs: this.t(), bytes: figures.transferredBytes, rounds: Math.max(0, figures.dirtySyncCount - 1), postcopyFaults: figures.postcopyRequests, qemu: figures,
    });
  }

  /** The source's QMP went away: the source QEMU died (or the lab was taken down). */
  private async onSourceLost(e: QmpError): Promise<void> {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    const destStatus = this.dst ? await this.dst.execute<{ status: string }>('query-status').catch(() => null) : null;
    if (destStatus?.status === 'running' && this.last?.phase === 'postcopy') {
      // Post-copy with the source gone: pages still on the source are lost with it.
      await this.fail(`VM LOST: the source QEMU on ${this.rec.fromId} went away during post-copy (${e.message})`, true);
      return;
    }
    await this.fail(`the source QEMU on ${this.rec.fromId} went away mid-migration (${e.message}); the VM is lost with it`, true);
  }

  private setupFailure(e: unknown): string {
    if (e instanceof CancelledInSetup) return '';
    const destDied = this.rec.dest.pid > 0 && !this.ctx.runner.isRunning(this.rec.dest);
    const msg = (e as Error).message ?? String(e);
    if (destDied) {
      const log = this.ctx.runner.readText(path.join(this.ctx.runner.hostDir(this.rec.toId), `${this.rec.vmId}.g${this.rec.destQmp.match(/\.g(\d+)\.qmp$/)?.[1]}.log`)).trim().split('\n').slice(-2).join(' ');
      return `the destination QEMU on ${this.rec.toId} exited while being set up${log ? `: ${log}` : ''}; the VM keeps running on ${this.rec.fromId}`;
    }
    return `setting up the migration failed: ${msg}; the VM keeps running on ${this.rec.fromId}`;
  }

  /** Failure before or outside QEMU's own migration state: clean up the destination. */
  private async fail(reason: string, vmLost = false): Promise<void> {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    const cancelled = reason === '';
    if (!vmLost) {
      // If `migrate` had been issued, make sure QEMU stops sending and the guest runs.
      await this.src?.execute('migrate_cancel').catch(() => {});
      if (this.rec.strategy === 'stop-and-copy') await this.src?.execute('cont').catch(() => {});
    }
    await this.cleanupDest();
    this.src?.close();
    if (vmLost) this.ctx.changed();
    this.settle({
      outcome: cancelled ? 'cancelled' : 'failed', reason: cancelled ? `cancelled during setup; the VM keeps running on ${this.rec.fromId}` : reason,
      vmLost, downtimeMs: null, totalMs: this.t(), bytes: this.last?.transferredBytes ?? 0, rounds: this.last?.round ?? 0, postcopyFaults: null, qemu: null,
    });
  }

  private async cleanupDest(): Promise<void> {
    this.dst?.close();
    if (this.rec.dest.pid > 0) await this.ctx.runner.stop(this.rec.dest, 1000);
    // A QEMU that was killed (or exited on a failed incoming stream) leaves its sockets.
    for (const f of [this.rec.destQmp, this.rec.destMon]) if (f) fs.rmSync(f, { force: true });
    try {
      updateLab(this.ctx.dataDir, (s) => {
        s.migrations = s.migrations.filter((m) => m.id !== this.rec.id);
      });
    } catch {
      // the lab is gone (ferry lab down): nothing left to record
    }
  }

  private settle(r: QemuDriverResult): void {
    this.finished = true;
    this.ctx.ended(this.rec.id);
    this.resolve(r);
  }
}

class CancelledInSetup extends Error {}

export function newLabMigration(id: string, spec: MigrationSpec & { recordId?: string }): LabMigration {
  return {
    id, vmId: spec.vmId, fromId: spec.fromId, toId: spec.toId, strategy: spec.strategy, policy: spec.policy,
    startedAt: Date.now(), port: 0, dest: { pid: 0, startTicks: '', marker: '' }, destQmp: '', destMon: '', destSerial: '',
    recordId: spec.recordId ?? null, started: false, ownerPid: process.pid,
  };
}
