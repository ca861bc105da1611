// The simulated datacenter: hosts, VMs and their workloads, the network between hosts,
// a clock, faults on demand, and the migrations running in it. The engine reaches it
// through SimDriver; tests and the CLI may also use it directly (faults, sleep, idle).
// Fit checks (memory, cores, anti-affinity) are the engine's job, not the world's.
import type { Cluster, VmState } from '../../preload/model';
import type { DriverChange, DriverInventory, InventoryFilter, InventoryOutline, MigrationSpec } from '../engine/driver';
import { SimClock, type ClockMode } from './clock';
import type { SimDatacenter } from './format';
import { buildInventory, dirtyRateAt, lastMeasuredAt, readRateAt, round1, type HostRt, type VmRt } from './inventory';
import { fairShares, pairKey, type Flow } from '../engine/links';
import { SimMigration, type VmFate } from './migration';
import { PAGES_PER_MIB } from './pages';
import { hash3, measureDistinct, workloadOf } from './workload';

export interface SimWorldOptions {
  /** 'virtual': as fast as the CPU allows; N: N times real time. Defaults to the datacenter's. */
  clock?: ClockMode;
  onChange?: (e: DriverChange) => void;
  /** Virtual time per simulation step, ms (default SIM_STEP_MS). */
  stepMs?: number;
}

/**
 * Virtual time per simulation step. Events inside a step (a pass ending, the pause, the
 * resume, completion) are timed exactly from the bytes sent; what the step sets is how finely
 * the guest's writes interleave with the sends, and how often the shares of the links are
 * revised. Measured with `npm run bench prediction-error`: 25 ms and 50 ms steps give the same
 * errors (within 0.3 ms of downtime p90 over 690 migrations), and 50 ms halves the fixed
 * work per migration per simulated second.
 */
export const SIM_STEP_MS = 50;

interface LinkRt {
  dropped: boolean;
  /** Share of the normal capacity left, 0 < factor <= 1. */
  factor: number;
}

const MiB = 1024 * 1024;

export class SimWorld {
  private readonly hosts = new Map<string, HostRt>();
  private readonly vms = new Map<string, VmRt>();
  /** Each host's VMs: an inventory of a few hosts and VMs reads only theirs. */
  private readonly onHost = new Map<string, Set<VmRt>>();
  private readonly links = new Map<string, LinkRt>();
  private active: SimMigration[] = [];
  private readonly nicOut = new Map<string, number>();
  private readonly nicIn = new Map<string, number>();
  private readonly listeners = new Set<(e: DriverChange) => void>();
  private idleWaiters: (() => void)[] = [];
  private readonly clock: SimClock;
  private allocDirty = false;
  /** Set when a migration ends: the next prune() drops the finished ones from `active`. */
  private pruneDue = false;
  /** The NIC totals are summed again on the next inventory. */
  private nicDirty = false;
  private seq = 0;
  private measurements = 0;
  /** Increases with every placement or state change. */
  version = 0;

  constructor(
    private readonly dc: SimDatacenter,
    opts: SimWorldOptions = {},
  ) {
    for (const h of dc.hosts) this.hosts.set(h.id, { spec: h, state: 'up', maintenance: h.maintenance });
    dc.vms.forEach((v, index) => {
      this.vms.set(v.id, { spec: v, index, work: workloadOf(v), host: v.host, state: 'running', migration: null, downWithHost: false });
    });
    for (const vm of this.vms.values()) this.placed(vm);
    if (opts.onChange) this.listeners.add(opts.onChange);
    this.clock = new SimClock(opts.clock ?? dc.clock, opts.stepMs ?? SIM_STEP_MS, {
      step: (t0, dt) => this.step(t0, dt),
      busy: () => this.prune() > 0,
    });
  }

  get clockMode(): ClockMode {
    return this.clock.mode;
  }

  now(): number {
    return this.clock.now();
  }

  /** Resolves after ms of virtual time (at once in virtual mode when nothing else runs). */
  sleep(ms: number): Promise<void> {
    return this.clock.sleep(ms);
  }

  /** Resolves when no migration is running. */
  idle(): Promise<void> {
    if (this.prune() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Subscribes to placement and state changes; returns the unsubscriber. */
  subscribe(listener: (e: DriverChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the clock; running migrations fail ("the simulation was stopped"). */
  dispose(): void {
    for (const m of [...this.active]) m.abort('the simulation was stopped', true);
    this.clock.dispose();
  }

  migrations(): readonly SimMigration[] {
    return this.active.filter((m) => !m.finished);
  }

  clusters(): Cluster[] {
    return this.dc.clusters.map((c) => ({ id: c.id, name: c.name ?? c.id }));
  }

  /** How many hosts there are and how many are up, without building an inventory. */
  hostCounts(): { hosts: number; up: number } {
    let up = 0;
    for (const h of this.hosts.values()) if (h.state === 'up') up++;
    return { hosts: this.hosts.size, up };
  }

  /** The whole inventory, or only some VMs and hosts (`only`: what changed, for a patch). */
  inventory(only?: InventoryFilter): DriverInventory {
    if (this.allocDirty) this.allocate(); // NIC traffic is current even when the clock is idle
    const { hosts, vms } = this;
    const { nicOut, nicIn } = this.nicTraffic();
    return buildInventory({ hosts: hosts.values(), vms: only ? this.touching(only) : vms.values(), seed: this.dc.seed, t: this.now(), nicOut, nicIn, only });
  }

  /**
   * What an inventory of only these hosts and VMs reads, in inventory order: the VMs on or
   * migrating to a listed host (they count in its usage) and the listed VMs.
   */
  private touching(only: InventoryFilter): VmRt[] {
    // Marked by position, then read in order: at 40,000 VMs a patch touches some 16,000,
    // which a set and a sort took 13 ms to put in order.
    const marked = new Uint8Array(this.dc.vms.length);
    const mark = (vm: VmRt | undefined) => {
      if (vm && vm.index < marked.length) marked[vm.index] = 1;
    };
    for (const id of only.hosts) for (const vm of this.onHost.get(id) ?? []) mark(vm);
    for (const m of this.active) if (only.hosts.has(m.spec.toId)) mark(this.vms.get(m.spec.vmId));
    for (const id of only.vms) mark(this.vms.get(id));
    const out: VmRt[] = [];
    for (const vm of this.vms.values()) if (marked[vm.index]) out.push(vm);
    return out;
  }

  private placed(vm: VmRt): void {
    let on = this.onHost.get(vm.host);
    if (!on) this.onHost.set(vm.host, (on = new Set()));
    on.add(vm);
  }

  /** Its hosts in inventory order and its VM count, as inventory() would list them. */
  outline(): InventoryOutline {
    const hosts: InventoryOutline['hosts'] = [];
    for (const { spec } of this.hosts.values()) hosts.push({ id: spec.id, cluster: spec.cluster });
    return { hosts, vms: this.vms.size };
  }

  /** Running VMs measured again after virtual time `since` (null: none), and the time now. */
  remeasured(since: number | null): { vmIds: string[]; now: number } {
    const now = this.now();
    const vmIds: string[] = [];
    if (since !== null && now > since) {
      for (const vm of this.vms.values()) {
        if ((vm.state === 'running' || vm.state === 'migrating') && lastMeasuredAt(vm, this.dc.seed, now) > since) vmIds.push(vm.spec.id);
      }
    }
    return { vmIds, now };
  }

  /** Starts a migration, or returns one already failed with the reason it cannot start. */
  migrate(spec: MigrationSpec): SimMigration {
    const id = `sim-${++this.seq}`;
    const vm = this.vms.get(spec.vmId);
    const refusal = this.refusal(spec, vm);
    if (refusal || !vm) {
      const m = new SimMigration(id, spec, null, this.now());
      m.refuse(refusal ?? 'unknown VM');
      return m;
    }
    const m = new SimMigration(id, spec, this.contextFor(vm), this.now());
    vm.migration = m;
    this.setState(vm, spec.strategy === 'stop-and-copy' ? 'paused' : 'migrating');
    m.start();
    this.active.push(m);
    if (m.finished) this.pruneDue = true; // ended during start(), before it was listed
    this.allocDirty = true;
    this.clock.kick();
    return m;
  }

  private refusal(spec: MigrationSpec, vm: VmRt | undefined): string | null {
    if (this.clock.stopped) return 'the simulation was stopped';
    const src = this.hosts.get(spec.fromId);
    const dst = this.hosts.get(spec.toId);
    if (!vm) return `unknown VM "${spec.vmId}"`;
    if (!src) return `unknown source host "${spec.fromId}"`;
    if (!dst) return `unknown destination host "${spec.toId}"`;
    if (vm.host !== spec.fromId) return `VM ${spec.vmId} runs on ${vm.host}, not on ${spec.fromId}`;
    if (spec.fromId === spec.toId) return `VM ${spec.vmId} already runs on ${spec.toId}`;
    if (vm.state !== 'running') return `VM ${spec.vmId} is ${vm.state}, not running`;
    if (src.state === 'down') return `source host ${spec.fromId} is down`;
    if (dst.state === 'down') return `destination host ${spec.toId} is down`;
    if (this.links.get(pairKey(spec.fromId, spec.toId))?.dropped) return `the link between ${spec.fromId} and ${spec.toId} is down`;
    return null;
  }

  private contextFor(vm: VmRt) {
    return {
      vcpus: vm.spec.vcpus,
      layout: { ...vm.work, unitPages: (this.dc.unitKiB ?? 4) / 4 },
      seed: hash3(this.dc.seed, vm.index, this.seq),
      dirtyMiBps: (t: number) => dirtyRateAt(vm, this.dc.seed, t),
      readMiBps: (t: number) => readRateAt(vm, this.dc.seed, t),
      ended: (m: SimMigration, fate: VmFate) => this.ended(vm, m, fate),
    };
  }

  private ended(vm: VmRt, m: SimMigration, fate: VmFate): void {
    vm.migration = null;
    if (fate === 'destination') {
      this.onHost.get(vm.host)?.delete(vm);
      vm.host = m.spec.toId;
      this.placed(vm);
      this.emit({ kind: 'placement', vmId: vm.spec.id, hostId: vm.host });
      this.setState(vm, 'running');
    } else if (fate === 'source') this.setState(vm, 'running');
    else if (fate === 'stopped') {
      vm.downWithHost = true;
      this.setState(vm, 'stopped');
    } else if (fate === 'lost') this.setState(vm, 'lost');
    this.allocDirty = true;
    this.pruneDue = true;
    if (this.prune() === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Drops finished migrations; returns how many still run. */
  private prune(): number {
    if (this.pruneDue) {
      this.pruneDue = false;
      this.active = this.active.filter((m) => !m.finished);
    }
    return this.active.length;
  }

  private step(t0: number, dt: number): void {
    if (this.allocDirty) this.allocate();
    for (const m of this.active) m.step(t0, dt);
  }

  /** Shares the links among the running flows (see links.ts) and records NIC traffic. */
  private allocate(): void {
    this.allocDirty = false;
    this.prune();
    const flows: Flow[] = this.active.map((m) => ({ src: m.spec.fromId, dst: m.spec.toId, cap: m.spec.policy.bandwidthMiBps }));
    const rates = fairShares(flows, {
      nicMiBps: (id) => this.hosts.get(id)?.spec.nicMiBps ?? 0,
      pathCapMiBps: (a, b) => {
        if (this.links.size === 0) return undefined; // no path slowed or cut: no key to build
        const link = this.links.get(pairKey(a, b));
        if (!link) return undefined;
        return link.dropped ? 0 : link.factor * Math.min(this.hosts.get(a)!.spec.nicMiBps, this.hosts.get(b)!.spec.nicMiBps);
      },
    });
    this.active.forEach((m, i) => (m.rate = (rates[i]! * MiB) / 1000));
    this.nicDirty = true;
  }

  /** Each host's NIC traffic out and in, MiB/s, from the running flows' rates (summed when asked). */
  private nicTraffic(): { nicOut: Map<string, number>; nicIn: Map<string, number> } {
    const { nicOut, nicIn } = this;
    if (this.nicDirty) {
      this.nicDirty = false;
      nicOut.clear();
      nicIn.clear();
      for (const m of this.active) {
        if (m.finished) continue;
        const r = (m.rate * 1000) / MiB;
        nicOut.set(m.spec.fromId, (nicOut.get(m.spec.fromId) ?? 0) + r);
        nicIn.set(m.spec.toId, (nicIn.get(m.spec.toId) ?? 0) + r);
      }
    }
    return { nicOut, nicIn };
  }

  // ---- faults on demand ----

  /** The host dies: its flows fail (post-copy VMs are lost) and the VMs on it stop. */
  killHost(hostId: string): void {
    const host = this.requireHost(hostId);
    if (host.state === 'down') return;
    host.state = 'down';
    this.emit({ kind: 'host-state', hostId, state: 'down' });
    for (const m of [...this.active]) {
      if (m.spec.toId === hostId) m.abort(`destination host ${hostId} went down`, true);
      else if (m.spec.fromId === hostId) m.abort(`source host ${hostId} went down`, false);
    }
    for (const vm of this.vms.values()) {
      if (vm.host !== hostId || vm.state === 'stopped' || vm.state === 'lost') continue;
      vm.downWithHost = true;
      this.setState(vm, 'stopped');
    }
  }

  /** The host is back; the VMs that went down with it start again. */
  reviveHost(hostId: string): void {
    const host = this.requireHost(hostId);
    if (host.state === 'up') return;
    host.state = 'up';
    this.emit({ kind: 'host-state', hostId, state: 'up' });
    for (const vm of this.vms.values()) {
      if (vm.host !== hostId || !vm.downWithHost) continue;
      vm.downWithHost = false;
      this.setState(vm, 'running');
    }
  }

  setMaintenance(hostId: string, on: boolean): void {
    const host = this.requireHost(hostId);
    if (host.maintenance === on) return;
    host.maintenance = on;
    this.emit({ kind: 'host-state', hostId, state: host.state });
  }

  /** The network path between a and b fails, both directions: like a death for its flows. */
  dropLink(a: string, b: string): void {
    this.requireHost(a);
    this.requireHost(b);
    this.linkOf(a, b).dropped = true;
    this.allocDirty = true;
    for (const m of [...this.active]) {
      if (pairKey(m.spec.fromId, m.spec.toId) === pairKey(a, b)) m.abort(`the link between ${a} and ${b} dropped`, true);
    }
  }

  /** The path between a and b keeps `factor` (0 < factor <= 1) of its capacity: 0.25 is four times slower. */
  slowLink(a: string, b: string, factor: number): void {
    if (!(factor > 0 && factor <= 1)) throw new RangeError(`slowLink factor must be in (0, 1], got ${factor}`);
    this.requireHost(a);
    this.requireHost(b);
    this.linkOf(a, b).factor = factor;
    this.allocDirty = true;
  }

  /** Undoes dropLink and slowLink. */
  restoreLink(a: string, b: string): void {
    this.links.delete(pairKey(a, b));
    this.allocDirty = true;
  }

  private linkOf(a: string, b: string): LinkRt {
    const key = pairKey(a, b);
    let link = this.links.get(key);
    if (!link) this.links.set(key, (link = { dropped: false, factor: 1 }));
    return link;
  }

  private requireHost(id: string): HostRt {
    const host = this.hosts.get(id);
    if (!host) throw new Error(`unknown host "${id}"`);
    return host;
  }

  // ---- measurement and export ----

  /**
   * Distinct pages the VM dirties per second (MiB/s) over a sampling window of the world's
   * clock, as QEMU's calc-dirty-rate would measure it: below the raw write rate when the
   * working set is small. A VM that is not running measures 0.
   */
  async measureDirtyRate(vmId: string, windowMs = 1000): Promise<number> {
    const vm = this.vms.get(vmId);
    if (!vm) throw new Error(`unknown VM "${vmId}"`);
    const t0 = this.now();
    await this.sleep(windowMs);
    const span = this.now() - t0;
    if (vm.state !== 'running' && vm.state !== 'migrating') return 0;
    const speed = 1 - (vm.migration?.throttlePct ?? 0) / 100;
    const writes = Math.round(((dirtyRateAt(vm, this.dc.seed, t0 + span / 2) * speed * PAGES_PER_MIB) / 1000) * span);
    const seed = hash3(this.dc.seed, vm.index, 0x10000 + ++this.measurements);
    return round1(measureDistinct(vm.work.wssMiB, writes, span, seed, vm.work.writePattern));
  }

  /** The datacenter as a file would describe it now (current placement and maintenance). */
  exportDatacenter(): SimDatacenter {
    return {
      ...this.dc,
      clusters: this.dc.clusters.map((c) => ({ ...c })),
      hosts: this.dc.hosts.map((h) => ({ ...h, maintenance: this.hosts.get(h.id)!.maintenance })),
      vms: this.dc.vms.map((v) => ({ ...v, host: this.vms.get(v.id)!.host })),
    };
  }

  private setState(vm: VmRt, state: VmState): void {
    if (vm.state === state) return;
    vm.state = state;
    this.emit({ kind: 'vm-state', vmId: vm.spec.id, state });
  }

  private emit(e: DriverChange): void {
    this.version++;
    for (const listener of this.listeners) {
      try {
        listener(e);
      } catch (err) {
        console.error('sim world: change listener failed', err);
      }
    }
  }
}
