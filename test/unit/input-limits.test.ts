// Inputs that used to cost a crash, a disk or a machine: audit rows only for accepted
// requests, a full disk mid-migration that loses nothing, nesting without end, datacenter
// files beyond the caps, and PDF prints without limit.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type FerryApp } from '../../main/app';
import { StoreWriteError } from '../../main/store/store';
import { SIM_LIMITS, parseSimDatacenter } from '../../main/sim/format';
import { generateDatacenter } from '../../main/sim/seed';
import { jsonTooDeep, parseBoundedJson } from '../../main/json-depth';
import { ReportPrinter } from '../../main/services/report-printer';
import type { MigrationRecord } from '../../preload/model';

let dir: string;
let app: FerryApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});
const open = (opts: Partial<Parameters<typeof createApp>[0]> = {}) => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-limits-'));
  return (app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual', ...opts }));
};
const auditRows = (a: FerryApp) => (a.store.db.prepare('SELECT count(*) AS n, coalesce(sum(length(detail)), 0) AS bytes FROM audit').get() as { n: number; bytes: number });
const ended = (a: FerryApp, id: string) =>
  new Promise<MigrationRecord>((resolve) => {
    const off = a.events.on('migrations:ended', (r) => r.id === id && (off(), resolve(r)));
  });

describe('audit rows', () => {
  it('are written for accepted requests only, and small', async () => {
    const a = open();
    const before = auditRows(a);
    const long = Array.from({ length: 1000 }, (_, i) => `no-such-vm-${i}-${'x'.repeat(150)}`);
    const bad: [string, unknown][] = [
      ['migrations:start', { vms: long, to: 'ams-h01' }], // unknown VMs
      ['migrations:start', { vms: ['web-001'], to: 'no-such-host' }],
      ['migrations:start', { vms: ['web-001', 'web-001'], to: 'ams-h01' }],
      ['migrations:start', { vms: long, to: 'ams-h01', extra: 1 }], // not the schema
      ['migrations:cancel', { id: 'm-nothing' }],
      ['migrations:postcopy', { id: 'm-nothing' }],
    ];
    for (let i = 0; i < 50; i++) {
      const [channel, req] = bad[i % bad.length]!;
      expect((await a.router.dispatch(channel, req)).ok).toBe(false);
    }
    expect(auditRows(a)).toEqual(before);
    const ok = await a.router.dispatch('migrations:start', { vms: ['web-001'], to: 'ams-h01' });
    expect(ok.ok).toBe(true);
    const after = auditRows(a);
    expect(after.n).toBe(before.n + 1);
    expect(after.bytes - before.bytes).toBeLessThan(2048);
    expect(a.store.auditLog(1)[0]).toMatchObject({ action: 'migrate', detail: { vms: ['web-001'], to: 'ams-h01' } });
  });
});

describe('a database that refuses writes during a migration', () => {
  it('is one line, the migration goes on, and its record is written once writes work again', async () => {
    const told: StoreWriteError[] = [];
    const a = open({ onStoreRefused: (e) => told.push(e) });
    // As a full disk or a read-only file does: every write refused from here on.
    a.store.db.pragma('query_only = ON');
    const res = await a.router.dispatch('migrations:start', { vms: ['db-002'], to: 'ams-h01' });
    expect(res.ok).toBe(true);
    const id = (res as { value: MigrationRecord[] }).value[0]!.id;
    const rec = await ended(a, id);
    expect(rec.outcome).toBe('completed');
    // Told once, not for each of the migration's writes.
    expect(told).toHaveLength(1);
    expect(told[0]!.message).toMatch(/^cannot write the history database at .*ferry\.db: the database is read-only \(SQLITE_READONLY\)/);
    expect(a.records.pending).toBe(1);
    expect(a.store.getMigration(id)).toBeNull();
    // The inventory moved in memory although its placement was not written.
    const inv = (await a.router.dispatch('inventory:get', {})) as { value: { vms: { id: string; host: string }[] } };
    expect(inv.value.vms.find((v) => v.id === 'db-002')?.host).toBe('ams-h01');
    a.store.db.pragma('query_only = OFF');
    expect(a.records.flush()).toBe(true);
    expect(a.store.getMigration(id)).toMatchObject({ outcome: 'completed', from: 'ams-h05', to: 'ams-h01' });
  });
});

describe('JSON nesting', () => {
  it('is measured without recursion and refused in words', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    expect(jsonTooDeep(deep)).toBe(true);
    expect(jsonTooDeep('{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')).toBe(false);
    expect(() => parseBoundedJson(deep)).toThrow('the JSON is nested more than 64 levels deep');
    expect(() => parseSimDatacenter(`{"clusters": ${deep}}`, 'dc.json')).toThrow('dc.json: the JSON is nested more than 64 levels deep');
  });
});

describe('datacenter file caps', () => {
  it('refuses more VMs or hosts than the cap, naming it, before checking each', () => {
    const dc = generateDatacenter();
    const vm = dc.vms[0]!;
    const many = { ...dc, vms: Array.from({ length: SIM_LIMITS.vms + 1 }, (_, i) => ({ ...vm, id: `v${i}` })) };
    const t0 = Date.now();
    expect(() => parseSimDatacenter(JSON.stringify(many), 'big.json')).toThrow(`big.json: vms: ${SIM_LIMITS.vms + 1} VMs is more than the cap of ${SIM_LIMITS.vms}`);
    expect(Date.now() - t0).toBeLessThan(5000);
    const hosts = { ...dc, hosts: Array.from({ length: SIM_LIMITS.hosts + 1 }, (_, i) => ({ ...dc.hosts[0]!, id: `h${i}` })) };
    expect(() => parseSimDatacenter(JSON.stringify(hosts), 'h.json')).toThrow(`cap of ${SIM_LIMITS.hosts}`);
    // At the cap it loads.
    const atCap = { ...dc, vms: Array.from({ length: 2000 }, (_, i) => ({ ...vm, id: `v${i}` })) };
    expect(parseSimDatacenter(JSON.stringify(atCap)).vms).toHaveLength(2000);
  });
});

describe('PDF prints', () => {
  it('run two at a time, eight wait their turn, more are refused in words', async () => {
    const p = new ReportPrinter(2, 8);
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    p.use(async (id) => {
      most = Math.max(most, ++running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return Buffer.from(id);
    });
    const prints = Array.from({ length: 10 }, (_, i) => p.print(`r${i}`));
    await new Promise((r) => setTimeout(r, 10));
    await expect(p.print('one-too-many')).rejects.toThrow('too many PDF reports at once (2 printing, 8 waiting); retry in a moment');
    while (gates.length || running) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 1));
    }
    const out = await Promise.all(prints);
    expect(out.map(String)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(most).toBe(2);
    // The queue drained: a new print runs at once.
    const late = p.print('late');
    await new Promise((r) => setTimeout(r, 1));
    gates.shift()?.();
    expect(String(await late)).toBe('late');
  });
});
