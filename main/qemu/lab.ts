// The lab: local "hosts" (a directory and a loopback port range each) running real QEMU
// guests, each with its own memory-dirtying workload. `up` starts it and records every
// process in <dataDir>/lab/lab.json; `down` stops exactly those processes (checked by
// pid, start time and command line, so a reused pid is never signalled).
import fs from 'node:fs';
import path from 'node:path';
import { ensureGuestImage, defaultVmSpecs, qemuArgs, READY_LINE, type VmSpec } from './guest';
import { labDir, labFile, readLab, updateLab, writeLab, type LabHost, type LabState, type LabVm } from './lab-state';
import { LocalRunner, socketDir, type HostRunner } from './runner';

export const LAB_CLUSTER = { id: 'lab', name: 'QEMU lab' };
/** Loopback: report a nominal link rate so predictions have one (the policy's cap rules). */
export const LAB_NIC_MiBps = 1000;
const PORT_BASE = 49152;
const PORTS_PER_HOST = 64;

export function labRunner(dataDir: string): HostRunner {
  return new LocalRunner(path.join(labDir(dataDir), 'hosts'));
}

export interface LabUpOptions {
  dataDir: string;
  hosts: number;
  vms: VmSpec[];
  runner?: HostRunner;
  /** Boot timeout per guest, ms. */
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}

function newHost(i: number): LabHost {
  return {
    id: `lab-h${i}`,
    name: `lab-h${i}`,
    portBase: PORT_BASE + (i - 1) * PORTS_PER_HOST,
    portCount: PORTS_PER_HOST,
    // Nominal capacity: every lab host shares this machine, and a guest only uses the
    // memory its working set touches; enough room for --vms up to ~30 per host.
    memoryMiB: 16384,
    cores: 8,
    nicMiBps: LAB_NIC_MiBps,
  };
}

/** True when some process the lab state names still runs. */
export function labRunning(state: LabState, runner: HostRunner): boolean {
  return state.vms.some((v) => runner.isRunning(v.proc)) || state.migrations.some((m) => runner.isRunning(m.dest));
}

export async function labUp(opts: LabUpOptions): Promise<LabState> {
  const log = opts.log ?? (() => {});
  const runner = opts.runner ?? labRunner(opts.dataDir);
  const prior = readLab(opts.dataDir);
  if (prior && labRunning(prior, runner)) {
    throw new Error(`a lab is already up in ${labDir(opts.dataDir)} (${prior.hosts.length} hosts, ${prior.vms.length} VMs): run \`ferry lab down\` first, or \`ferry lab add-vm\``);
  }
  if (prior) await labDown(opts.dataDir, runner); // leftovers of a lab whose processes are gone
  if (opts.hosts < 2 || opts.hosts > 16) throw new Error('--hosts must be between 2 and 16');
  const names = new Set<string>();
  for (const v of opts.vms) {
    if (names.has(v.name)) throw new Error(`two VMs are named ${v.name}`);
    names.add(v.name);
  }
  const image = ensureGuestImage(log);
  const hosts = Array.from({ length: opts.hosts }, (_, i) => newHost(i + 1));
  for (const v of opts.vms) {
    if (v.host && !hosts.some((h) => h.id === v.host)) throw new Error(`--vm ${v.name}: no host ${v.host} (hosts are ${hosts.map((h) => h.id).join(', ')})`);
  }
  const state: LabState = { version: 1, createdAt: new Date().toISOString(), kernel: image.kernel, initrd: image.initrd, hosts, vms: [], migrations: [] };
  for (const h of hosts) runner.prepareHost(h);
  writeLab(opts.dataDir, state);
  log(`lab: ${hosts.length} hosts (${hosts.map((h) => h.id).join(', ')}), starting ${opts.vms.length} guests under TCG`);
  try {
    const started = opts.vms.map((spec, i) => startVm(state, runner, spec, spec.host ?? hosts[i % hosts.length]!.id));
    writeLab(opts.dataDir, state);
    await Promise.all(started.map((vm) => waitReady(runner, vm, opts.bootTimeoutMs ?? 90_000).then(() => log(`lab: ${vm.name} ready on ${vm.host} (pid ${vm.proc.pid}, ${vm.memoryMiB} MiB, working set ${vm.wssMiB} MiB dirtied at ${vm.dirtyMiBps} MiB/s)`))));
  } catch (e) {
    log(`lab: starting failed, stopping what was started: ${(e as Error).message}`);
    await labDown(opts.dataDir, runner);
    throw e;
  }
  return state;
}

/** Starts one guest on a host and adds it to `state` (the caller writes the state). */
function startVm(state: LabState, runner: HostRunner, spec: VmSpec, hostId: string): LabVm {
  const dir = runner.hostDir(hostId);
  const sock = socketDir(dir);
  const where = { qmp: path.join(sock, `${spec.name}.g0.qmp`), mon: path.join(sock, `${spec.name}.g0.mon`), serial: path.join(dir, `${spec.name}.serial`) };
  const g = { vmId: spec.name, name: spec.name, memoryMiB: spec.mem, vcpus: spec.vcpus, wssMiB: spec.wss, dirtyMiBps: spec.rate, order: spec.order, kernel: state.kernel, initrd: state.initrd };
  for (const f of [where.qmp, where.mon, where.serial]) fs.rmSync(f, { force: true });
  const proc = runner.startQemu(hostId, spec.name, qemuArgs(g, where, false), where.qmp);
  const vm: LabVm = { id: spec.name, name: spec.name, host: hostId, memoryMiB: spec.mem, vcpus: spec.vcpus, wssMiB: spec.wss, dirtyMiBps: spec.rate, order: spec.order, proc, ...where, generation: 0 };
  state.vms.push(vm);
  return vm;
}

/** Waits for the guest's ready line on its serial console. */
export async function waitReady(runner: HostRunner, vm: LabVm, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (runner.readText(vm.serial).includes(READY_LINE)) return;
    if (!runner.isRunning(vm.proc)) {
      const logText = runner.readText(path.join(runner.hostDir(vm.host), `${vm.name}.log`)).trim().split('\n').slice(-3).join(' ');
      throw new Error(`guest ${vm.name}: QEMU exited during boot${logText ? `: ${logText}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const tail = runner.readText(vm.serial).trim().split('\n').slice(-2).join(' | ');
  throw new Error(`guest ${vm.name} did not print its ready line within ${Math.round(timeoutMs / 1000)} s${tail ? ` (serial: ${tail})` : ''}`);
}

export interface LabDownResult {
  stopped: { what: string; pid: number }[];
}

/** Stops every process the lab state names (and nothing else), then removes the lab. */
export async function labDown(dataDir: string, runner: HostRunner = labRunner(dataDir)): Promise<LabDownResult> {
  const state = readLab(dataDir);
  const stopped: LabDownResult['stopped'] = [];
  if (!state) {
    fs.rmSync(labDir(dataDir), { recursive: true, force: true });
    return { stopped };
  }
  const procs = [
    ...state.vms.map((v) => ({ what: `${v.name} on ${v.host}`, proc: v.proc })),
    ...state.migrations.map((m) => ({ what: `${m.vmId} migrating to ${m.toId}`, proc: m.dest })),
  ];
  await Promise.all(
    procs.map(async ({ what, proc }) => {
      if (!runner.isRunning(proc)) return;
      await runner.stop(proc, 2000);
      stopped.push({ what, pid: proc.pid });
    }),
  );
  for (const h of state.hosts) runner.removeHost(h.id);
  fs.rmSync(labFile(dataDir), { force: true });
  fs.rmSync(labDir(dataDir), { recursive: true, force: true });
  return { stopped };
}

export async function labAddVm(dataDir: string, spec: VmSpec, opts: { runner?: HostRunner; bootTimeoutMs?: number } = {}): Promise<LabVm> {
  const runner = opts.runner ?? labRunner(dataDir);
  const vm = updateLab(dataDir, (s) => {
    if (s.vms.some((v) => v.name === spec.name)) throw new Error(`the lab already has a VM named ${spec.name}`);
    const hostId = spec.host ?? leastLoaded(s);
    if (!s.hosts.some((h) => h.id === hostId)) throw new Error(`no host ${hostId} in the lab (hosts are ${s.hosts.map((h) => h.id).join(', ')})`);
    return startVm(s, runner, spec, hostId);
  });
  try {
    await waitReady(runner, vm, opts.bootTimeoutMs ?? 60_000);
  } catch (e) {
    await runner.stop(vm.proc, 1000);
    updateLab(dataDir, (s) => {
      s.vms = s.vms.filter((v) => v.id !== vm.id);
    });
    throw e;
  }
  return vm;
}

/** Stops one guest and forgets it (not while it migrates). */
export async function labRemoveVm(dataDir: string, vmId: string, runner: HostRunner = labRunner(dataDir)): Promise<void> {
  const s = readLab(dataDir);
  const vm = s?.vms.find((v) => v.id === vmId);
  if (!s || !vm) throw new Error(`the lab has no VM ${vmId}`);
  if (s.migrations.some((m) => m.vmId === vmId)) throw new Error(`${vmId} is migrating; cancel the migration first`);
  await runner.stop(vm.proc, 2000);
  updateLab(dataDir, (st) => {
    st.vms = st.vms.filter((v) => v.id !== vmId);
  });
}

function leastLoaded(s: LabState): string {
  const used = new Map(s.hosts.map((h) => [h.id, 0]));
  for (const v of s.vms) used.set(v.host, (used.get(v.host) ?? 0) + v.memoryMiB);
  return [...used.entries()].sort((a, b) => a[1] - b[1])[0]![0];
}

export interface LabStatus {
  up: boolean;
  dir: string;
  hosts: { id: string; ports: string; vms: string[] }[];
  vms: { name: string; host: string; pid: number; running: boolean; memoryMiB: number; wssMiB: number; dirtyMiBps: number }[];
  migrations: { vm: string; from: string; to: string; destPid: number; destRunning: boolean }[];
}

export function labStatus(dataDir: string, runner: HostRunner = labRunner(dataDir)): LabStatus {
  const s = readLab(dataDir);
  if (!s) return { up: false, dir: labDir(dataDir), hosts: [], vms: [], migrations: [] };
  return {
    up: labRunning(s, runner),
    dir: labDir(dataDir),
    hosts: s.hosts.map((h) => ({ id: h.id, ports: `${h.portBase}-${h.portBase + h.portCount - 1}`, vms: s.vms.filter((v) => v.host === h.id).map((v) => v.name) })),
    vms: s.vms.map((v) => ({ name: v.name, host: v.host, pid: v.proc.pid, running: runner.isRunning(v.proc), memoryMiB: v.memoryMiB, wssMiB: v.wssMiB, dirtyMiBps: v.dirtyMiBps })),
    migrations: s.migrations.map((m) => ({ vm: m.vmId, from: m.fromId, to: m.toId, destPid: m.dest.pid, destRunning: runner.isRunning(m.dest) })),
  };
}

export { defaultVmSpecs };
