// The lab's life cycle on real QEMU: guest specs, up, add-vm to a running lab, status,
// refusing a second lab, and a `down` that stops exactly the processes the lab started.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { labPlan, labStatusText } from '../../main/cli/lab-commands';
import { parseVmSpec } from '../../main/qemu/guest';
import { labAddVm, labDown, labRunner, labStatus, labUp } from '../../main/qemu/lab';
import { readLab } from '../../main/qemu/lab-state';
import { expectGuestAlive, qemuMissing, tempDir } from './qemu-helpers';

describe('lab guest specs', () => {
  it('parses name:key=value specs and says what is wrong with a bad one', () => {
    expect(parseVmSpec('web:mem=512,wss=128,rate=50')).toEqual({ name: 'web', mem: 512, wss: 128, rate: 50, vcpus: 1 });
    expect(parseVmSpec('db:mem=384,wss=64,rate=20,host=lab-h2')).toMatchObject({ host: 'lab-h2' });
    expect(parseVmSpec('plain')).toMatchObject({ name: 'plain', mem: 512 });
    expect(() => parseVmSpec('web:mem=abc')).toThrow(/mem must be a number/);
    expect(() => parseVmSpec('web:mem=256,wss=250')).toThrow(/working set/);
    expect(() => parseVmSpec('web:color=blue')).toThrow(/web:color=blue/);
    expect(() => parseVmSpec('bad name:mem=256')).toThrow(/letters, digits/);
  });

  it('plans from --vm specs, a lab file, or --vms defaults', () => {
    expect(labPlan({ dataDir: '/x' }).vms).toHaveLength(6);
    expect(labPlan({ dataDir: '/x', vms: 2 }).vms.map((v) => v.name)).toEqual(['lab-vm1', 'lab-vm2']);
    expect(labPlan({ dataDir: '/x', vmSpecs: ['a:wss=16'] }).vms.map((v) => v.name)).toEqual(['a']);
    expect(() => labPlan({ dataDir: '/x', hosts: Number('three') })).toThrow(/--hosts must be a whole number/);
    expect(() => labPlan({ dataDir: '/x', hosts: 1 })).toThrow(/--hosts/);
    const dir = tempDir('ferry-labfile-');
    const file = `${dir}/lab.json`;
    fs.writeFileSync(file, JSON.stringify({ hosts: 2, vms: [{ name: 'f1', mem: 256, wss: 32, rate: 5 }] }));
    expect(labPlan({ dataDir: '/x', file })).toMatchObject({ hosts: 2, vms: [{ name: 'f1', mem: 256 }] });
    fs.writeFileSync(file, JSON.stringify({ hosts: 2, vms: [{ name: 'f1', memory: 256 }] }));
    expect(() => labPlan({ dataDir: '/x', file })).toThrow(/lab file .*vms\.0/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const missing = qemuMissing();
if (missing) console.log(`skipping the QEMU lab tests: ${missing}`);

describe.skipIf(missing !== null)('lab on real QEMU', () => {
  const dataDir = tempDir('ferry-qemu-lab-');
  afterAll(async () => {
    await labDown(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('starts, adds a VM to the running lab, refuses a second lab, and stops exactly what it started', async () => {
    await labUp({ dataDir, hosts: 2, vms: [{ name: 'one', mem: 256, wss: 32, rate: 5, vcpus: 1 }] });
    await expectGuestAlive(dataDir, 'one', 'lab-h1');
    await expect(labUp({ dataDir, hosts: 2, vms: [] })).rejects.toThrow(/already up/);
    const two = await labAddVm(dataDir, { name: 'two', mem: 256, wss: 16, rate: 0, vcpus: 1 });
    expect(two.host).toBe('lab-h2'); // the least loaded host
    await expectGuestAlive(dataDir, 'two', 'lab-h2');
    await expect(labAddVm(dataDir, { name: 'two', mem: 256, wss: 16, rate: 0, vcpus: 1 })).rejects.toThrow(/already has a VM named two/);
    const st = labStatus(dataDir);
    expect(st.up).toBe(true);
    expect(st.vms.map((v) => [v.name, v.host, v.running])).toEqual([['one', 'lab-h1', true], ['two', 'lab-h2', true]]);
    expect(labStatusText(st)).toMatch(/two +on lab-h2/);

    const procs = readLab(dataDir)!.vms.map((v) => v.proc);
    const down = await labDown(dataDir);
    expect(down.stopped.map((s) => s.pid).sort()).toEqual(procs.map((p) => p.pid).sort());
    for (const p of procs) expect(labRunner(dataDir).isRunning(p)).toBe(false);
    expect(labStatus(dataDir).up).toBe(false);
    expect(await labDown(dataDir)).toEqual({ stopped: [] });
  }, 120_000);
});
