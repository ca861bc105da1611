// The lab's state file, <dataDir>/lab/lab.json: every host, every guest with the pid of
// the QEMU process it lives in, and every migration in flight with its destination's
// pid. It is the registry the qemu driver's inventory reads, what `ferry lab down` stops
// exactly, and what a restarted Ferry reads to find migrations still running in QEMU.
import fs from 'node:fs';
import path from 'node:path';
import type { QemuProc } from './runner';
import type { Policy, Strategy } from '../../preload/model';

export interface LabHost {
  id: string;
  name: string;
  portBase: number;
  portCount: number;
  memoryMiB: number;
  cores: number;
  nicMiBps: number;
}

export interface LabVm {
  id: string;
  name: string;
  host: string;
  memoryMiB: number;
  vcpus: number;
  wssMiB: number;
  dirtyMiBps: number;
  /** Write order of the guest's dirtier (absent in labs made before it existed: sweep). */
  order?: 'sweep' | 'random';
  /** The QEMU process the guest lives in now. */
  proc: QemuProc;
  /** Control socket (migration) and a second monitor for queries (QMP serves one client per socket). */
  qmp: string;
  mon: string;
  serial: string;
  /** Incremented by every migration: names the sockets of the next incarnation. */
  generation: number;
  /** Set when a post-copy lost the guest (its memory was split and one side died). */
  lost?: boolean;
}

export interface LabMigration {
  id: string;
  vmId: string;
  fromId: string;
  toId: string;
  strategy: Strategy;
  policy: Policy;
  startedAt: number;
  port: number;
  dest: QemuProc;
  destQmp: string;
  destMon: string;
  destSerial: string;
  /** The id the engine recorded it under, when it told the driver (recovery records it once). */
  recordId: string | null;
  /** True once the source was told to start (before that, a restart just cleans up). */
  started: boolean;
  /** When the source was told to migrate (epoch ms): QEMU's total-time counts from here. */
  migrateAt?: number;
  /** The Ferry process watching it: another live process's migration is never adopted. */
  ownerPid: number;
}

export interface LabState {
  version: 1;
  createdAt: string;
  kernel: string;
  initrd: string;
  hosts: LabHost[];
  vms: LabVm[];
  migrations: LabMigration[];
}

export function labDir(dataDir: string): string {
  return path.join(dataDir, 'lab');
}

export function labFile(dataDir: string): string {
  return path.join(labDir(dataDir), 'lab.json');
}

export function readLab(dataDir: string): LabState | null {
  let text: string;
  try {
    text = fs.readFileSync(labFile(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const s = JSON.parse(text) as LabState;
    return s && s.version === 1 && Array.isArray(s.hosts) ? s : null;
  } catch {
    return null;
  }
}

export function writeLab(dataDir: string, state: LabState): void {
  fs.mkdirSync(labDir(dataDir), { recursive: true });
  const tmp = `${labFile(dataDir)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
  fs.renameSync(tmp, labFile(dataDir)); // atomic: a reader never sees half a file
}

/**
 * Read-modify-write under a lock directory, so that the console and a CLI command can both
 * change the lab. A lock older than 10 s is taken as left behind by a dead process.
 */
export function updateLab<T>(dataDir: string, fn: (s: LabState) => T): T {
  const lock = path.join(labDir(dataDir), 'lab.lock');
  fs.mkdirSync(labDir(dataDir), { recursive: true });
  const end = Date.now() + 5000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 10_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        // raced with its owner releasing it
      }
      if (Date.now() > end) throw new Error(`the lab state is locked (${lock}); remove it if no ferry process is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    const s = readLab(dataDir);
    if (!s) throw new Error('no lab is up (ferry lab up starts one)');
    const out = fn(s);
    writeLab(dataDir, s);
    return out;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
