import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../main/store/store';
import { LATEST } from '../../main/store/schema';
import { generateDatacenter } from '../../main/sim/seed';
import { record } from './store.test-record';

describe('store', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-store-'));
    store = Store.open(dir);
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens a file in WAL mode at the latest schema, and migrates down and up again', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.version).toBe(LATEST);
    store.migrateTo(0);
    expect(store.version).toBe(0);
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    expect(tables).toEqual([]);
    store.migrateTo(LATEST);
    expect(store.version).toBe(LATEST);
    store.insertMigration(record('m-1'));
    expect(store.getMigration('m-1')?.vm).toBe('web-001');
  });

  it('refuses a database from a newer Ferry', () => {
    store.db.pragma(`user_version = ${LATEST + 1}`);
    expect(() => store.migrateTo(LATEST)).toThrow(/newer than this Ferry/);
  });

  it('keeps the simulated datacenter and placement changes across reopen', () => {
    const dc = generateDatacenter({ vms: 30 });
    store.saveDatacenter(dc);
    store.moveVm(dc.vms[0]!.id, 'fra-h03');
    store.close();
    store = Store.open(dir);
    const back = store.loadDatacenter<typeof dc>()!;
    expect(back.hosts).toHaveLength(dc.hosts.length);
    expect(back.vms).toHaveLength(30);
    expect(back.vms[0]!.host).toBe('fra-h03');
    expect(back.vms[1]).toEqual(dc.vms[1]);
    expect(back.clusters).toEqual(dc.clusters);
  });

  it('records migrations with their rounds and filters history', () => {
    store.insertMigration(record('m-1'));
    store.insertMigration(record('m-2', { vm: 'db-001', vmId: 'db-001', outcome: 'failed', downtimeMs: null, reason: 'link died', queuedAt: '2026-11-21T00:00:00.000Z' }));
    store.insertMigration(record('m-3', { from: 'fra-h01', downtimeMs: 900, queuedAt: '2026-11-22T00:00:00.000Z' }));
    store.addRound('m-1', { round: 0, t: 100, phase: 'precopy', remainingBytes: 5e8, transferredBytes: 5e8, dirtyMiBps: 20, bandwidthMiBps: 1000, expectedDowntimeMs: 500, throttlePct: 0 });
    store.addRound('m-1', { round: 1, t: 600, phase: 'precopy', remainingBytes: 1e6, transferredBytes: 1e9, dirtyMiBps: 21, bandwidthMiBps: 1000, expectedDowntimeMs: 1, throttlePct: 0 });
    expect(store.rounds('m-1').map((r) => r.round)).toEqual([0, 1]);

    expect(store.listMigrations({}).total).toBe(3);
    expect(store.listMigrations({}).rows[0]!.id).toBe('m-3'); // newest first
    expect(store.listMigrations({ vm: 'db-001' }).rows.map((r) => r.id)).toEqual(['m-2']);
    expect(store.listMigrations({ outcome: 'failed' }).rows[0]!.reason).toBe('link died');
    expect(store.listMigrations({ host: 'fra-h01' }).rows.map((r) => r.id)).toEqual(['m-3']);
    expect(store.listMigrations({ minDowntimeMs: 100 }).rows.map((r) => r.id)).toEqual(['m-3']);
    expect(store.listMigrations({ since: '2026-11-21T00:00:00Z' }).total).toBe(2);
    expect(store.listMigrations({ text: 'link' }).rows.map((r) => r.id)).toEqual(['m-2']);
    expect(store.listMigrations({ text: '%' }).total).toBe(0); // LIKE wildcards are escaped
    expect(store.listMigrations({ sort: 'downtimeMs', desc: true }).rows[0]!.id).toBe('m-3');
  });

  it('updates a record in place', () => {
    store.insertMigration(record('m-1', { outcome: 'running', downtimeMs: null }));
    store.updateMigration(record('m-1', { outcome: 'cancelled', reason: 'cancelled by operator', events: [{ t: 5, text: 'cancel' }] }));
    const r = store.getMigration('m-1')!;
    expect(r.outcome).toBe('cancelled');
    expect(r.events).toEqual([{ t: 5, text: 'cancel' }]);
  });

  it('marks migrations a previous process left unfinished as failed', () => {
    store.insertMigration(record('m-1', { outcome: 'running' }));
    store.insertMigration(record('m-2'));
    expect(store.abandonUnfinished('Ferry stopped')).toBe(1);
    expect(store.getMigration('m-1')!.outcome).toBe('failed');
    expect(store.getMigration('m-2')!.outcome).toBe('completed');
  });

  it('leaves alone the unfinished migrations of a Ferry that is still running, and adopted ones', () => {
    store.insertMigration(record('console', { outcome: 'running' }));
    store.insertMigration(record('dead', { outcome: 'running' }));
    store.insertMigration(record('adopted', { outcome: 'running' }));
    store.db.prepare('UPDATE migrations SET owner_pid = ? WHERE id = ?').run(process.ppid, 'console'); // alive
    store.db.prepare('UPDATE migrations SET owner_pid = ? WHERE id IN (?, ?)').run(2 ** 22 + 12345, 'dead', 'adopted'); // no such pid
    expect(store.abandonUnfinished('stopped', (r) => r.id === 'adopted')).toBe(1);
    expect(store.getMigration('console')!.outcome).toBe('running');
    expect(store.getMigration('dead')!.outcome).toBe('failed');
    expect(store.getMigration('adopted')!.outcome).toBe('running');
  });

  it('prunes the samples of old migrations but keeps their summary rows', () => {
    const sample = { round: 0, t: 1, phase: 'precopy' as const, remainingBytes: 1, transferredBytes: 1, dirtyMiBps: 1, bandwidthMiBps: 1, expectedDowntimeMs: 1, throttlePct: 0 };
    store.insertMigration(record('old', { queuedAt: '2025-01-01T00:00:00.000Z' }));
    store.insertMigration(record('new', { queuedAt: '2026-11-25T00:00:00.000Z' }));
    store.addRound('old', sample);
    store.addRound('new', sample);
    expect(store.pruneRounds(new Date('2026-01-01T00:00:00Z'))).toBe(1);
    expect(store.rounds('old')).toEqual([]);
    expect(store.rounds('new')).toHaveLength(1);
    expect(store.getMigration('old')?.downtimeMs).toBe(42);
    expect(store.retentionDays()).toBe(365);
    store.setMeta('retention.roundsDays', '30');
    expect(store.retentionDays()).toBe(30);
  });

  it('finds migrations by words in any text column, treating query syntax as text', () => {
    store.insertMigration(record('m-1', { vm: 'db-007', reason: 'dirty rate 410 MiB/s exceeds the link' }));
    store.insertMigration(record('m-2', { vm: 'web-001', reason: 'converges in 3 rounds' }));
    expect(store.listMigrations({ text: 'db-00' }).rows.map((r) => r.id)).toEqual(['m-1']);
    expect(store.listMigrations({ text: 'exceeds link' }).rows.map((r) => r.id)).toEqual(['m-1']);
    expect(store.listMigrations({ text: 'rounds OR "' }).rows.map((r) => r.id)).toEqual([]);
    expect(store.listMigrations({ text: 'converges' }).rows.map((r) => r.id)).toEqual(['m-2']);
    store.updateMigration(record('m-2', { vm: 'web-001', reason: 'cancelled by operator', outcome: 'cancelled' }));
    expect(store.listMigrations({ text: 'converges' }).total).toBe(0);
    expect(store.listMigrations({ text: 'operator' }).rows.map((r) => r.id)).toEqual(['m-2']);
  });

  it('keeps the audit log append-only', () => {
    store.audit('alice', 'migrate', { vm: 'web-001' });
    expect(store.auditLog()[0]).toMatchObject({ actor: 'alice', action: 'migrate', detail: { vm: 'web-001' } });
    expect(() => store.db.exec('DELETE FROM audit')).toThrow(/append-only/);
    expect(() => store.db.exec("UPDATE audit SET actor = 'mallory'")).toThrow(/append-only/);
  });
});
