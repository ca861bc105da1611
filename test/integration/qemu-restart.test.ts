// Ferry stopped mid-migration: QEMU keeps migrating without it. The next Ferry (here the
// console, `ferry serve`) finds the migration still running, watches it to the end, and
// finishes the one record the first process created: never two, never abandoned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, startServe, type Served } from '../e2e/harness';
import { labDown } from '../../main/qemu/lab';
import { readLab } from '../../main/qemu/lab-state';
import { expectGuestAlive, qemuMissing, tempDir } from './qemu-helpers';

const missing = qemuMissing();
if (missing) console.log(`skipping the QEMU restart test: ${missing}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(missing !== null)('Ferry restarted mid-migration on real QEMU', () => {
  let dataDir: string;
  let served: Served | null = null;
  const ferry = (...args: string[]) => runCli(args, { dataDir, timeoutMs: 150_000 });

  beforeAll(() => {
    dataDir = tempDir('ferry-qemu-restart-');
  });
  afterAll(async () => {
    await served?.stop();
    if (dataDir) {
      await labDown(dataDir);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('adopts the running migration and records it once', async () => {
    const up = await ferry('lab', 'up', '--hosts', '2', '--vm', 'slow:mem=512,wss=160,rate=5', '--json');
    expect(up.code, up.stderr).toBe(0);

    // A pre-copy capped at 20 MiB/s: several seconds, time enough to kill Ferry mid-way.
    const root = path.resolve(__dirname, '..', '..');
    const child = spawn(process.execPath, [path.join(root, 'bin', 'ferry.js'), 'migrate', 'slow', '--to', 'lab-h2',
      '--strategy', 'precopy', '--bandwidth', '20', '--json', '--data-dir', dataDir], { cwd: root, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!readLab(dataDir)?.migrations.some((m) => m.started) && Date.now() < deadline) await sleep(200);
    expect(readLab(dataDir)!.migrations.some((m) => m.started), 'the migration never started in QEMU').toBe(true);
    await sleep(1000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const running = JSON.parse((await ferry('history', '--vm', 'slow', '--json')).stdout) as { id: string; outcome: string }[];
    expect(running).toHaveLength(1);
    expect(running[0]!.outcome).toBe('running');

    served = await startServe({ dataDir });
    let rec: { id: string; outcome: string; events: { text: string }[]; downtimeMs: number } | undefined;
    const end = Date.now() + 90_000;
    while (Date.now() < end) {
      const rows = JSON.parse((await ferry('history', '--vm', 'slow', '--json')).stdout);
      expect(rows).toHaveLength(1);
      rec = rows[0];
      if (rec!.outcome !== 'running') break;
      await sleep(1000);
    }
    expect(rec!.id).toBe(running[0]!.id);
    expect(rec!.outcome).toBe('completed');
    expect(rec!.events.map((e) => e.text).join('\n')).toMatch(/Ferry restarted and found this migration still running/);
    expect(rec!.downtimeMs).toBeGreaterThan(0);
    await expectGuestAlive(dataDir, 'slow', 'lab-h2');
  }, 240_000);
});
