// One owner per data directory, with the built CLI and `ferry serve` as real processes on
// one temp data directory: CLI commands beside a console go through it (one datacenter,
// one queue); two CLI commands take turns; a second console is refused.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { runCli, startServe, tempDataDir, type Served } from '../e2e/harness';

type Rec = { id: string; vm: string; from: string; to: string; outcome: string };
type Vm = { id: string; host: string };

let dirs: string[] = [];
let served: Served[] = [];
afterEach(async () => {
  for (const s of served) await s.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  served = [];
  dirs = [];
});
const dataDir = () => {
  const d = tempDataDir('ferry-owner-');
  dirs.push(d);
  return d;
};
const ferry = (dir: string, args: string[], env: Record<string, string> = {}) => runCli(args, { dataDir: dir, env });
const history = async (dir: string) => JSON.parse((await ferry(dir, ['history', '--json'])).stdout) as Rec[];

/** The console's own view, over its WebSocket. */
async function consoleApi(s: Served) {
  const u = new URL(s.url);
  const ws = new WebSocket(`ws://${u.host}/api?token=${s.token}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const call = <T>(channel: string, req: unknown = {}) =>
    new Promise<T>((resolve, reject) => {
      const my = ++id;
      const on = (data: WebSocket.RawData) => {
        const msg = JSON.parse(String(data)) as { type: string; id?: number; envelope?: { ok: boolean; value: T; error: unknown } };
        if (msg.type !== 'result' || msg.id !== my) return;
        ws.off('message', on);
        if (msg.envelope!.ok) resolve(msg.envelope!.value);
        else reject(new Error(JSON.stringify(msg.envelope!.error)));
      };
      ws.on('message', on);
      ws.send(JSON.stringify({ type: 'invoke', id: my, channel, req }));
    });
  return { call, close: () => ws.close() };
}

describe('one owner per data directory', () => {
  it('two CLI migrations of one VM at once: both succeed, one after the other, no duplicate', async () => {
    const dir = dataDir();
    expect((await ferry(dir, ['vms'])).code).toBe(0); // seeds the datacenter
    const [a, b] = await Promise.all([
      ferry(dir, ['migrate', 'db-002', '--to', 'ams-h01', '--speed', 'virtual', '--json']),
      ferry(dir, ['migrate', 'db-002', '--to', 'ams-h02', '--speed', 'virtual', '--json']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stderr + b.stderr).not.toMatch(/locked|SQLITE|\n\s+at /);
    const recs = await history(dir);
    expect(recs).toHaveLength(2);
    expect(recs.every((r) => r.outcome === 'completed')).toBe(true);
    // One migration left ams-h05; the other started where the first put the VM.
    const [first, second] = recs[0]!.from === 'ams-h05' ? [recs[0]!, recs[1]!] : [recs[1]!, recs[0]!];
    expect(first.from).toBe('ams-h05');
    expect(second.from).toBe(first.to);
    const vms = JSON.parse((await ferry(dir, ['vms', '--json'])).stdout) as Vm[];
    expect(vms.find((v) => v.id === 'db-002')?.host).toBe(second.to);
  });

  it('a second command waits for the first, saying who holds the directory; a read-only one goes ahead', async () => {
    const dir = dataDir();
    expect((await ferry(dir, ['vms'])).code).toBe(0);
    // A migration on a clock 5 times real time (some 6 s) holds the directory.
    const long = ferry(dir, ['migrate', 'db-002', '--to', 'ams-h01', '--speed', '5', '--json']);
    const lock = path.join(dir, 'ferry.lock');
    for (let i = 0; i < 100 && !fs.existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    const holder = JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number; what: string };
    expect(holder.what).toBe('ferry migrate');
    const [refused, read] = await Promise.all([
      ferry(dir, ['maintenance', 'enter', 'ams-h03'], { FERRY_LOCK_WAIT_SECONDS: '0.5' }),
      ferry(dir, ['vms', '--json']),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`ferry migrate (pid ${holder.pid}`);
    expect(refused.stderr).toMatch(/waiting up to 1 s[\s\S]*still in use by ferry migrate .* after 1 s; retry when it ends/);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toHaveLength(120);
    const waited = await ferry(dir, ['maintenance', 'enter', 'ams-h03']);
    expect(waited.code, waited.stderr).toBe(0);
    expect((await long).code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('a stale lock (its process gone) is taken over with a message', async () => {
    const dir = dataDir();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    fs.writeFileSync(path.join(dir, 'ferry.lock'), JSON.stringify({ pid: dead.pid, startTicks: '', startedAt: new Date().toISOString(), kind: 'cli', what: 'ferry migrate', socket: null }));
    const r = await ferry(dir, ['maintenance', 'enter', 'ams-h03']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`taking over the data directory ${dir} from ferry migrate (pid ${dead.pid}`);
    expect(fs.existsSync(path.join(dir, 'ferry.lock'))).toBe(false);
  });

  it('beside `ferry serve`, the CLI uses the console: its datacenter, its queue; a second console is refused', async () => {
    const dir = dataDir();
    const s = await startServe({ dataDir: dir, speed: '1' });
    served.push(s);
    const api = await consoleApi(s);
    try {
      // Only the user can reach the console's socket; the directory and database are theirs alone.
      expect(fs.statSync(path.join(dir, 'ferry.sock')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(dir, 'ferry.db')).mode & 0o777).toBe(0o600);

      const second = await ferry(dir, ['serve', '--json']);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`another Ferry console, ferry serve (pid ${s.process.pid}`);
      expect(second.stdout).toBe('');

      const migrate = ferry(dir, ['migrate', 'web-001', '--to', 'ams-h01', '--json']);
      // The CLI's migration runs in the console: the console lists it as active.
      let active: { vm: string; id: string }[] = [];
      for (let i = 0; i < 100 && !active.some((p) => p.vm === 'web-001'); i++) {
        active = await api.call<{ vm: string; id: string }[]>('migrations:active');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(active.map((p) => p.vm)).toContain('web-001');
      // Started meanwhile from the console, another VM's migration is in the CLI's history at once.
      const m = await migrate;
      expect(m.code, m.stderr).toBe(0);
      const rec = JSON.parse(m.stdout) as Rec;
      expect(rec.id).toBe(active.find((p) => p.vm === 'web-001')!.id);
      expect(rec).toMatchObject({ from: 'ams-h04', to: 'ams-h01', outcome: 'completed' });
      const inv = await api.call<{ vms: Vm[] }>('inventory:get');
      expect(inv.vms.find((v) => v.id === 'web-001')?.host).toBe('ams-h01');
      const cliVms = JSON.parse((await ferry(dir, ['vms', '--json'])).stdout) as Vm[];
      expect(cliVms.find((v) => v.id === 'web-001')?.host).toBe('ams-h01');
      // Moving it again from the CLI starts from where the console has it (no stale copy).
      const again = await ferry(dir, ['predict', 'web-001', '--to', 'ams-h02', '--json']);
      expect(JSON.parse(again.stdout)).toMatchObject({ from: 'ams-h01' });

      // What the contract does not cover is refused in words, not done behind the console's back.
      const load = await ferry(dir, ['sim', 'load', path.join(__dirname, '..', 'e2e', 'fixtures', 'small-lab.json')]);
      expect(load.code).toBe(1);
      expect(load.stderr).toBe(`ferry: ferry sim load needs the data directory to itself, and the Ferry console ferry serve (pid ${s.process.pid}, since ${JSON.parse(fs.readFileSync(path.join(dir, 'ferry.lock'), 'utf8')).startedAt.replace('T', ' ').slice(0, 19)}) has it open: close the console, then retry\n`);
    } finally {
      api.close();
    }
  });

  it('the CLI and the console migrating the same VM at the same moment: one wins, the other is refused with the reason', async () => {
    const dir = dataDir();
    const s = await startServe({ dataDir: dir, speed: '1' });
    served.push(s);
    const api = await consoleApi(s);
    try {
      const [cli, fromConsole] = await Promise.all([
        ferry(dir, ['migrate', 'web-002', '--to', 'ams-h02', '--json']),
        api.call<Rec[]>('migrations:start', { vms: ['web-002'], to: 'ams-h03', strategy: 'auto' }).then((r) => ({ ok: true as const, r }), (e: Error) => ({ ok: false as const, e })),
      ]);
      const cliWon = cli.code === 0;
      // Exactly one of the two started it.
      expect(cliWon).toBe(!fromConsole.ok);
      if (cliWon) expect((fromConsole as { e: Error }).e.message).toMatch(/web-002 is already (queued|migrating)/);
      else expect(cli.stderr).toMatch(/^ferry: web-002 is already (queued|migrating) \(m-/);
      // Wait for the winner to end, then: one record, one placement.
      for (let i = 0; i < 600; i++) {
        const active = await api.call<{ vm: string }[]>('migrations:active');
        if (!active.some((p) => p.vm === 'web-002')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const recs = (await history(dir)).filter((r) => r.vm === 'web-002');
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({ outcome: 'completed', to: cliWon ? 'ams-h02' : 'ams-h03' });
      const inv = await api.call<{ vms: Vm[] }>('inventory:get');
      expect(inv.vms.find((v) => v.id === 'web-002')?.host).toBe(cliWon ? 'ams-h02' : 'ams-h03');
    } finally {
      api.close();
    }
  });

  it("the console's socket answers the contract and survives hostile lines", async () => {
    const dir = dataDir();
    const s = await startServe({ dataDir: dir, speed: 'virtual' });
    served.push(s);
    const talk = (lines: string) =>
      new Promise<string>((resolve) => {
        const c = net.connect(path.join(dir, 'ferry.sock'));
        let out = '';
        c.on('data', (d) => (out += d));
        c.on('close', () => resolve(out));
        c.on('error', () => resolve(out));
        c.on('connect', () => c.write(lines));
        setTimeout(() => c.destroy(), 1500);
      });
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    await talk(`${deep}\nnot json\n{"type":"invoke","id":1,"channel":"app:info","req":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}\n`);
    await talk('x'.repeat(300 * 1024));
    const ok = await talk('{"type":"invoke","id":7,"channel":"app:info","req":{}}\n{"type":"invoke","id":8,"channel":"migrations:start","req":{"vms":[]}}\n');
    const lines = ok.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: number; envelope: { ok: boolean; value?: { dataDir: string }; error?: { code: string } } });
    const results = lines.filter((l) => l.type === 'result');
    expect(results.find((r) => r.id === 7)?.envelope.value?.dataDir).toBe(dir);
    expect(results.find((r) => r.id === 8)?.envelope).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(s.process.exitCode).toBeNull();
  });

  it('`ferry sim load` beyond the caps is refused, naming the cap, and loads nothing', async () => {
    const dir = dataDir();
    const dc = JSON.parse((await ferry(dir, ['sim', 'export'])).stdout) as { vms: Record<string, unknown>[] };
    const vm = dc.vms[0]!;
    const file = path.join(dir, 'big.json');
    fs.writeFileSync(file, JSON.stringify({ ...dc, vms: Array.from({ length: 50_001 }, (_, i) => ({ ...vm, id: `v${i}`, name: undefined })) }));
    const many = await ferry(dir, ['sim', 'load', file]);
    expect(many.code).toBe(1);
    expect(many.stderr).toBe(`ferry: ${file}: vms: 50001 VMs is more than the cap of 50000\n`);
    const huge = path.join(dir, 'huge.json');
    fs.closeSync(fs.openSync(huge, 'w'));
    fs.truncateSync(huge, 65 * 1024 * 1024); // sparse: no time spent writing it
    const big = await ferry(dir, ['sim', 'load', huge]);
    expect(big.code).toBe(2);
    expect(big.stderr).toBe(`ferry: ${huge}: ${65 * 1024 * 1024} bytes is larger than the cap of ${64 * 1024 * 1024} bytes\n`);
    const deep = path.join(dir, 'deep.json');
    fs.writeFileSync(deep, `{"clusters": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const nested = await ferry(dir, ['sim', 'load', deep]);
    expect(nested.stderr).toBe(`ferry: ${deep}: the JSON is nested more than 64 levels deep\n`);
    const vms = JSON.parse((await ferry(dir, ['vms', '--json'])).stdout) as Vm[];
    expect(vms).toHaveLength(120);
  });

  it('beside a console, report --pdf is printed by the console; a command whose console stops says so', async () => {
    const dir = dataDir();
    const s = await startServe({ dataDir: dir, speed: '1' });
    served.push(s);
    const quick = await ferry(dir, ['migrate', 'web-001', '--to', 'ams-h01', '--json']);
    expect(quick.code, quick.stderr).toBe(0);
    const id = (JSON.parse(quick.stdout) as Rec).id;
    if (fs.existsSync(process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium')) {
      const out = path.join(dir, 'report.pdf');
      const pdf = await ferry(dir, ['report', id, '--pdf', out]);
      expect(pdf.code, pdf.stderr).toBe(0);
      expect(fs.readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
    }
    // A long migration (some 30 s at real time); the console stops half-way.
    const long = ferry(dir, ['migrate', 'db-002', '--to', 'ams-h02', '--json']);
    const api = await consoleApi(s);
    for (let i = 0; i < 100 && !(await api.call<{ vm: string }[]>('migrations:active')).some((p) => p.vm === 'db-002'); i++) await new Promise((r) => setTimeout(r, 50));
    api.close();
    s.process.kill('SIGTERM');
    const r = await long;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ferry: the Ferry console (pid ${s.process.pid}) closed the connection`);
  });
});
