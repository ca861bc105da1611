// The `qemu` host driver: the lab's hosts and guests as inventory, live migrations between
// real QEMU processes over QMP, and dirty-rate measurement with calc-dirty-rate. The same
// HostDriver interface as `sim`; the engine does not know which one it talks to.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { DriverCalibration, DriverFactory, DriverInventory, DriverMigration, HostDriver, InventoryFilter, MigrationSpec, RecoveredMigration } from '../engine/driver';
import type { Cluster, DriverHealth, Host, Vm } from '../../preload/model';
import { pidAlive } from '../pid';
import { guestZeroFraction, QEMU_LAB_CALIBRATION, type GuestFootprint } from './calibration';
import { labFile, readLab, updateLab, type LabMigration, type LabState } from './lab-state';
import { LAB_CLUSTER, labRunner } from './lab';
import { newLabMigration, QemuMigration, type QemuDriverResult } from './migration';
import { QmpClient } from './qmp';
import type { HostRunner } from './runner';

export interface QemuDriverOptions {
  dataDir: string;
  /** Defaults to the LocalRunner of the lab in dataDir. */
  runner?: HostRunner;
  /** query-migrate polling period, ms (default 150). */
  pollMs?: number;
  /** The placement of a lab VM changed (migration ended, VM lost): refresh views. */
  onChange?: () => void;
  /** Instead of QEMU_LAB_CALIBRATION: the calibration bench predicts held-out workloads with the one it fitted in the same run. */
  calibration?: DriverCalibration;
  /** Instead of QEMU_GUEST_FOOTPRINT, likewise. */
  footprint?: GuestFootprint;
}

/** A migration found running in QEMU when this driver started (left by a Ferry that stopped). */
export interface RecoveredQemuMigration extends RecoveredMigration {
  migration: DriverMigration & { readonly done: Promise<QemuDriverResult> };
  spec: MigrationSpec;
  /** Epoch ms when it started. */
  startedAt: number;
}

export class QemuDriver implements HostDriver {
  readonly kind = 'qemu';
  readonly label = 'QEMU lab';
  readonly calibration: DriverCalibration;
  /** QEMU migrates on without us; a restarted console adopts what it finds (recover()). */
  readonly migrationsOutliveFerry = true;
  private readonly runner: HostRunner;
  private readonly pollMs: number;
  private cache: { key: string; at: number; inv: DriverInventory } | null = null;
  private readonly active = new Map<string, QemuMigration>();

  constructor(private readonly opts: QemuDriverOptions) {
    this.runner = opts.runner ?? labRunner(opts.dataDir);
    this.calibration = opts.calibration ?? QEMU_LAB_CALIBRATION;
    this.pollMs = opts.pollMs ?? 150;
  }

  now(): number {
    return Date.now();
  }

  clusters(): Cluster[] {
    return this.inventory().hosts.length ? [LAB_CLUSTER] : [];
  }

  health(): DriverHealth {
    const s = readLab(this.opts.dataDir);
    if (!s || !s.hosts.length) return { state: 'empty', hosts: 0, hostsUp: 0, detail: 'no QEMU lab is up (ferry lab up)' };
    const vms = s.vms.length;
    const stopped = s.vms.filter((v) => !v.lost && !this.runner.isRunning(v.proc)).length;
    const hosts = s.hosts.length;
    const detail = `${hosts} lab hosts on this machine, ${vms} guests${stopped ? `, ${stopped} of them not running` : ''}`;
    return { state: stopped ? 'degraded' : 'ok', hosts, hostsUp: hosts, detail };
  }

  /** The whole inventory, or only the VMs and hosts in `only`. */
  inventory(only?: InventoryFilter): DriverInventory {
    const inv = this.fullInventory();
    if (!only) return inv;
    return { hosts: inv.hosts.filter((h) => only.hosts.has(h.id)), vms: inv.vms.filter((v) => only.vms.has(v.id) || (only.vmsOnHosts && only.hosts.has(v.host))) };
  }

  /** Synchronous, as the interface wants: the lab state file, re-read when it changes. */
  private fullInventory(): DriverInventory {
    let key = 'none';
    try {
      const st = fs.statSync(labFile(this.opts.dataDir));
      key = `${st.mtimeMs}:${st.size}`;
    } catch {
      // no lab
    }
    if (this.cache && this.cache.key === key && Date.now() - this.cache.at < 1000) return this.cache.inv;
    const s = readLab(this.opts.dataDir);
    const inv = s ? this.toInventory(s) : { hosts: [], vms: [] };
    this.cache = { key, at: Date.now(), inv };
    return inv;
  }

  private toInventory(s: LabState): DriverInventory {
    const migrating = new Set(s.migrations.map((m) => m.vmId));
    const vms: Vm[] = s.vms.map((v) => {
      const running = this.runner.isRunning(v.proc);
      const resident = running ? this.runner.residentMiB(v.proc, v.memoryMiB) : null;
      return {
        id: v.id, name: v.name, host: v.host, memoryMiB: v.memoryMiB, vcpus: v.vcpus,
        state: v.lost ? 'lost' : !running ? 'stopped' : migrating.has(v.id) ? 'migrating' : 'running',
        cpuPct: running ? Math.min(100, 5 + v.dirtyMiBps / 10) : 0,
        antiAffinity: null,
        workload: {
          zeroFraction: guestZeroFraction(v.memoryMiB, v.wssMiB, this.opts.footprint), wssMiB: v.wssMiB, dirtyMiBps: v.dirtyMiBps,
          readWssMiB: v.wssMiB, readMiBps: v.dirtyMiBps, writePattern: v.order ?? 'sweep',
          ...(resident !== null ? { residentMiB: Math.round(resident) } : {}),
        },
      };
    });
    const hosts: Host[] = s.hosts.map((h) => {
      const mine = vms.filter((v) => v.host === h.id && v.state !== 'stopped');
      return {
        id: h.id, name: h.name, cluster: LAB_CLUSTER.id, rack: 'local', driver: 'qemu', cores: h.cores, memoryMiB: h.memoryMiB,
        nicMiBps: h.nicMiBps, maintenance: false, state: 'up',
        usage: { cpuPct: Math.min(100, mine.reduce((a, v) => a + v.cpuPct, 0) / h.cores), memUsedMiB: mine.reduce((a, v) => a + v.memoryMiB, 0), nicOutMiBps: 0, nicInMiBps: 0 },
      };
    });
    return { hosts, vms };
  }

  private invalidate(): void {
    this.cache = null;
    this.opts.onChange?.();
  }

  /**
   * calc-dirty-rate in page-sampling mode (dirty-bitmap mode crashes QEMU 7.2 under TCG),
   * on the VM's second monitor so that it never waits for a migration's connection.
   */
  async measureDirtyRate(vmId: string, calcTimeS = 1): Promise<number> {
    const vm = readLab(this.opts.dataDir)?.vms.find((v) => v.id === vmId);
    if (!vm) throw new Error(`no lab VM ${vmId}`);
    const qmp = await QmpClient.connectWithRetry(this.runner.qmpTarget(vm.mon), 3000);
    try {
      await qmp.execute('calc-dirty-rate', { 'calc-time': calcTimeS, 'sample-pages': 1024 });
      const end = Date.now() + calcTimeS * 1000 + 5000;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 250));
        const r = await qmp.execute<{ status: string; 'dirty-rate'?: number }>('query-dirty-rate');
        if (r.status === 'measured') return r['dirty-rate'] ?? 0;
      }
      throw new Error(`calc-dirty-rate on ${vmId} did not finish in ${calcTimeS + 5} s`);
    } finally {
      qmp.close();
    }
  }

  migrate(spec: MigrationSpec & { recordId?: string }): QemuMigration {
    const s = readLab(this.opts.dataDir);
    if (!s) throw new Error('no QEMU lab is up (ferry lab up)');
    const vm = s.vms.find((v) => v.id === spec.vmId);
    if (!vm) throw new Error(`no lab VM ${spec.vmId}`);
    if (vm.host !== spec.fromId) throw new Error(`${vm.name} runs on ${vm.host}, not ${spec.fromId}`);
    if (!s.hosts.some((h) => h.id === spec.toId)) throw new Error(`no lab host ${spec.toId}`);
    if (spec.toId === spec.fromId) throw new Error(`${vm.name} already runs on ${spec.toId}`);
    if (vm.lost) throw new Error(`${vm.name} was lost in a failed post-copy; it cannot be migrated (ferry lab down removes it)`);
    if (!this.runner.isRunning(vm.proc)) throw new Error(`${vm.name}'s QEMU process (pid ${vm.proc.pid}) is not running`);
    if (s.migrations.some((m) => m.vmId === vm.id) || [...this.active.values()].some((m) => m.vmId === vm.id)) {
      throw new Error(`${vm.name} is already migrating`);
    }
    const rec = newLabMigration(`qm-${crypto.randomUUID().slice(0, 8)}`, spec);
    const mig = this.track(new QemuMigration(this.context(), rec, false));
    void mig.run();
    this.invalidate();
    return mig;
  }

  /**
   * Migrations still running in QEMU that no live Ferry watches (this process just started):
   * adopts each once and watches it to its end. Setups that never reached `migrate` are
   * cleaned up (their destination stopped) and not returned.
   */
  recover(): RecoveredQemuMigration[] {
    const s = readLab(this.opts.dataDir);
    if (!s) return [];
    const out: RecoveredQemuMigration[] = [];
    for (const m of s.migrations) {
      if (this.active.has(m.id)) continue;
      // Watched by another live Ferry (the console while a CLI command runs): leave it.
      if (m.ownerPid !== process.pid && pidAlive(m.ownerPid)) continue;
      if (!m.started) {
        void this.runner.stop(m.dest, 1000).then(() =>
          updateLab(this.opts.dataDir, (st) => {
            st.migrations = st.migrations.filter((x) => x.id !== m.id);
          }),
        );
        continue;
      }
      updateLab(this.opts.dataDir, (st) => {
        const x = st.migrations.find((y) => y.id === m.id);
        if (x) x.ownerPid = process.pid;
      });
      const mig = this.track(new QemuMigration(this.context(), { ...m, ownerPid: process.pid }, true));
      void mig.run();
      out.push({ migration: mig, recordId: m.recordId, spec: specOf(m), startedAt: m.startedAt });
    }
    return out;
  }

  /** Stops watching (QEMU's migrations go on; a later driver can recover them). */
  dispose(): void {
    for (const m of this.active.values()) m.detach();
    this.active.clear();
  }

  private track(mig: QemuMigration): QemuMigration {
    this.active.set(mig.id, mig);
    return mig;
  }

  private context() {
    return {
      dataDir: this.opts.dataDir,
      runner: this.runner,
      pollMs: this.pollMs,
      changed: () => this.invalidate(),
      ended: (id: string) => {
        this.active.delete(id);
        this.invalidate();
      },
    };
  }
}

function specOf(m: LabMigration): MigrationSpec {
  return { vmId: m.vmId, fromId: m.fromId, toId: m.toId, strategy: m.strategy, policy: m.policy };
}

export type { QemuDriverResult };

export const qemuDriver: DriverFactory = {
  kind: 'qemu',
  // The lab's edits say nothing about which VM changed: views refetch.
  create: (ctx) => new QemuDriver({ dataDir: ctx.dataDir, onChange: () => ctx.changed() }),
};
