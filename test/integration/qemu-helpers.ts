// Shared by the real-QEMU integration tests: a lab in a temp data dir, an in-memory
// recorder for the engine, and checks that a guest really runs where Ferry says it does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import type { MigrationRecord, RoundSample } from '../../preload/model';
import type { MigrationRecorder } from '../../main/engine/engine';
import { readLab } from '../../main/qemu/lab-state';
import { labRunner } from '../../main/qemu/lab';
import { QmpClient } from '../../main/qemu/qmp';

export function qemuMissing(): string | null {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86); `npm run test:all` installs it';
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export class MemoryRecorder implements MigrationRecorder {
  readonly records = new Map<string, MigrationRecord>();
  readonly rounds = new Map<string, RoundSample[]>();
  inserts = 0;
  insert(rec: MigrationRecord): void {
    this.inserts++;
    this.records.set(rec.id, structuredClone(rec));
  }
  update(rec: MigrationRecord): void {
    this.records.set(rec.id, structuredClone(rec));
  }
  addRound(id: string, s: RoundSample): void {
    const list = this.rounds.get(id) ?? [];
    list.push(s);
    this.rounds.set(id, list);
  }
}

export function labVm(dataDir: string, name: string) {
  const vm = readLab(dataDir)?.vms.find((v) => v.name === name);
  if (!vm) throw new Error(`no lab VM ${name}`);
  return vm;
}

/** QEMU's run state of the VM's current process, over its second monitor. */
export async function runState(dataDir: string, name: string): Promise<string> {
  const q = await QmpClient.connectWithRetry({ path: labVm(dataDir, name).mon }, 3000);
  try {
    return (await q.execute<{ status: string }>('query-status')).status;
  } finally {
    q.close();
  }
}

/**
 * The guest is alive where the lab says: its QEMU runs, QEMU says 'running', and the
 * guest's own heartbeat lines keep coming on that process's serial console, with no panic.
 */
export async function expectGuestAlive(dataDir: string, name: string, host: string): Promise<void> {
  const vm = labVm(dataDir, name);
  expect(vm.host).toBe(host);
  expect(labRunner(dataDir).isRunning(vm.proc)).toBe(true);
  expect(await runState(dataDir, name)).toBe('running');
  const beats = () => (fs.readFileSync(vm.serial, 'utf8').match(/ferry-dirty: alive/g) ?? []).length;
  const before = beats();
  // Liveness, not speed: a guest still serving post-copy faults under TCG beats slowly.
  const end = Date.now() + 20000;
  while (beats() < before + 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  const serial = fs.readFileSync(vm.serial, 'utf8');
  expect(serial, 'the guest panicked').not.toMatch(/Kernel panic|Oops|BUG:/);
  expect(beats(), `no new heartbeats from ${name} on ${host}`).toBeGreaterThanOrEqual(before + 2);
}
