// `ferry lab up`, `ferry migrate --json`, `ferry evacuate` and `ferry lab down` from the command line, as a
// user runs them: the built CLI, a temp data dir, real QEMU guests that outlive each
// `ferry` process, and a `lab down` that stops exactly the processes `lab up` started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { runCli } from '../e2e/harness';
import { labDown, labRunner } from '../../main/qemu/lab';
import { readLab } from '../../main/qemu/lab-state';
import { expectGuestAlive, qemuMissing, tempDir } from './qemu-helpers';

const missing = qemuMissing();
if (missing) console.log(`skipping the QEMU CLI tests: ${missing}`);

describe.skipIf(missing !== null)('ferry lab and migrate on real QEMU, from the CLI', () => {
  let dataDir: string;
  const ferry = (...args: string[]) => runCli(args, { dataDir, timeoutMs: 150_000 });

  beforeAll(() => {
    dataDir = tempDir('ferry-qemu-cli-');
  });
  afterAll(async () => {
    // Whatever happened above, nothing the lab started survives the test.
    if (dataDir) {
      await labDown(dataDir);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('lab up starts guests that the inventory lists; migrate --json moves one; lab down stops exactly them', async () => {
    const up = await ferry('lab', 'up', '--hosts', '2', '--vm', 'web:mem=256,wss=32,rate=10', '--vm', 'db:mem=384,wss=64,rate=20,host=lab-h2', '--json');
    expect(up.code, up.stderr).toBe(0);
    const status = JSON.parse(up.stdout);
    expect(status.up).toBe(true);
    expect(status.vms.map((v: { name: string }) => v.name).sort()).toEqual(['db', 'web']);
    const started = readLab(dataDir)!.vms.map((v) => v.proc);
    expect(started.every((p) => labRunner(dataDir).isRunning(p))).toBe(true);

    const hosts = JSON.parse((await ferry('hosts', '--json')).stdout) as { id: string; driver: string }[];
    expect(hosts.filter((h) => h.driver === 'qemu').map((h) => h.id)).toEqual(['lab-h1', 'lab-h2']);
    const vms = JSON.parse((await ferry('vms', '--json')).stdout) as { id: string; host: string; state: string }[];
    expect(vms.find((v) => v.id === 'web')).toMatchObject({ host: 'lab-h1', state: 'running' });

    const mig = await ferry('migrate', 'web', '--to', 'lab-h2', '--strategy', 'precopy', '--bandwidth', '200', '--json');
    expect(mig.code, mig.stderr).toBe(0);
    const rec = JSON.parse(mig.stdout);
    console.log(`ferry migrate web: ${rec.outcome} in ${rec.totalMs} ms, downtime ${rec.downtimeMs} ms`);
    expect(rec).toMatchObject({ vm: 'web', from: 'lab-h1', to: 'lab-h2', driver: 'qemu', outcome: 'completed' });
    expect(rec.downtimeMs).toBeLessThan(300);
    await expectGuestAlive(dataDir, 'web', 'lab-h2');
    const after = JSON.parse((await ferry('vms', '--json')).stdout) as { id: string; host: string }[];
    expect(after.find((v) => v.id === 'web')!.host).toBe('lab-h2');

    // Maintenance on real QEMU: evacuating lab-h2 (web and db now) empties it and holds it.
    const plan = JSON.parse((await ferry('evacuate', 'lab-h2', '--dry-run', '--json')).stdout) as { steps: { vm: string; to: string }[]; blockers: unknown[] };
    expect(plan.steps.map((x) => [x.vm, x.to]).sort()).toEqual([['db', 'lab-h1'], ['web', 'lab-h1']]);
    expect(plan.blockers).toEqual([]);
    const evac = await ferry('evacuate', 'lab-h2', '--json');
    expect(evac.code, evac.stderr).toBe(0);
    const report = JSON.parse(evac.stdout) as { state: string; done: number; total: number; actualMs: number; plan: { etaMs: number } };
    console.log(`ferry evacuate lab-h2: ${report.state}, ${report.done} of ${report.total} in ${report.actualMs} ms (predicted ${report.plan.etaMs} ms)`);
    expect(report).toMatchObject({ state: 'completed', done: 2, total: 2 });
    await expectGuestAlive(dataDir, 'web', 'lab-h1');
    await expectGuestAlive(dataDir, 'db', 'lab-h1');
    const held = JSON.parse((await ferry('hosts', '--json')).stdout) as { id: string; maintenance: boolean }[];
    expect(held.find((h) => h.id === 'lab-h2')!.maintenance).toBe(true);
    const refused = await ferry('migrate', 'web', '--to', 'lab-h2');
    expect(refused.stderr).toMatch(/lab-h2 is in maintenance/);

    const pids = readLab(dataDir)!.vms.map((v) => v.proc);
    const down = await ferry('lab', 'down', '--json');
    expect(down.code, down.stderr).toBe(0);
    const stopped = JSON.parse(down.stdout).stopped as { pid: number }[];
    expect(stopped.map((s) => s.pid).sort()).toEqual(pids.map((p) => p.pid).sort());
    for (const p of [...started, ...pids]) expect(labRunner(dataDir).isRunning(p)).toBe(false);
    expect(readLab(dataDir)).toBeNull();
  }, 240_000);
});
