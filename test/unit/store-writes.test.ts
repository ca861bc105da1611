// The store's writes on a real file: created for its user only, immediate transactions
// (two processes writing at once wait for each other instead of failing), a full disk as
// one StoreWriteError line told once, records the disk refused kept until it takes them,
// and audit rows of bounded size.
import { describe, it, expect, afterEach } from 'vitest';
import { buildSync } from 'esbuild';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DB_FILE, MAX_AUDIT_DETAIL, Store, StoreWriteError } from '../../main/store/store';
import { RecordKeeper } from '../../main/services/record-keeper';
import { record } from './store.test-record';

const root = path.resolve(__dirname, '..', '..');
let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = () => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-writes-')));

/** Caps the database at its current size: the next page it needs is refused (SQLITE_FULL). */
function fill(store: Store): void {
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages}`);
}
function unfill(store: Store): void {
  store.db.pragma('max_page_count = 1073741823');
}
const big = (id: string) => record(id, { events: Array.from({ length: 400 }, (_, i) => ({ t: i, text: `event ${i} `.repeat(8) })) });

describe('store writes', () => {
  it('creates the database (and its new folder) for its user only', () => {
    const data = path.join(tmp(), 'fresh', 'data');
    const store = Store.open(data);
    store.setMeta('k', 'v');
    expect(fs.statSync(path.join(data, DB_FILE)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${path.join(data, DB_FILE)}-wal`).mode & 0o777).toBe(0o600);
    expect(fs.statSync(data).mode & 0o777).toBe(0o700);
    store.close();
    // An existing database readable by all is narrowed at the next open.
    fs.chmodSync(path.join(data, DB_FILE), 0o644);
    Store.open(data).close();
    expect(fs.statSync(path.join(data, DB_FILE)).mode & 0o777).toBe(0o600);
  });

  it('a full disk is one StoreWriteError line, told once, and a later write goes through', () => {
    const store = Store.open(tmp());
    const told: string[] = [];
    store.onRefused = (e) => told.push(e.message);
    store.insertMigration(record('a'));
    fill(store);
    let err: unknown;
    try {
      for (let i = 0; i < 20; i++) store.insertMigration(big(`full-${i}`));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreWriteError);
    const file = path.join(dir, DB_FILE);
    expect((err as Error).message).toBe(`cannot write the history database at ${file}: disk full (SQLITE_FULL); free space and retry`);
    expect(() => store.insertMigration(big('full-again'))).toThrow(StoreWriteError);
    expect(told).toHaveLength(1);
    unfill(store);
    store.audit('x', 'after', {});
    // The refused transaction left nothing half-written; the record before it is whole.
    expect(store.getMigration('a')?.downtimeMs).toBe(42);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    store.close();
  });

  it('records the disk refused wait in memory and are written once it has room', () => {
    const store = Store.open(tmp());
    store.onRefused = () => undefined;
    const keeper = new RecordKeeper(store);
    keeper.insert(record('m1', { outcome: 'running', endedAt: null }));
    fill(store);
    const queued = big('m2');
    keeper.insert({ ...queued, outcome: 'queued' });
    keeper.update({ ...queued, outcome: 'running' });
    keeper.update(big('m1'));
    keeper.addRound('m1', { round: 0, t: 1, phase: 'precopy', remainingBytes: 1, transferredBytes: 1, dirtyMiBps: 1, bandwidthMiBps: 1, expectedDowntimeMs: 1, throttlePct: 0 });
    expect(keeper.failure).toBeInstanceOf(StoreWriteError);
    expect(keeper.pending).toBe(2);
    expect(store.getMigration('m2')).toBeNull();
    expect(keeper.flush()).toBe(false);
    unfill(store);
    keeper.update({ ...queued, outcome: 'completed' });
    expect(keeper.pending).toBe(0);
    expect(keeper.failure).toBeNull();
    expect(store.getMigration('m2')?.outcome).toBe('completed');
    expect(store.getMigration('m1')?.events).toHaveLength(400);
    expect(keeper.droppedRounds).toBe(1);
    store.close();
  });

  it('bounds an audit row', () => {
    const store = Store.open(tmp());
    store.audit('cli', 'migrate', { vms: Array.from({ length: 1000 }, (_, i) => `vm-${i}-${'x'.repeat(190)}`) });
    const row = store.db.prepare('SELECT length(detail) AS n FROM audit').get() as { n: number };
    expect(row.n).toBeLessThanOrEqual(MAX_AUDIT_DETAIL);
    expect(store.auditLog()[0]!.detail).toMatchObject({ truncated: true });
    store.close();
  });

  it('two processes updating the same records at once both finish (immediate transactions)', async () => {
    tmp();
    const seed = Store.open(dir);
    for (let i = 0; i < 20; i++) seed.insertMigration(record(`r${i}`, { outcome: 'running', endedAt: null }));
    seed.close();
    const entry = path.join(__dirname, '.writer-child.ts');
    fs.writeFileSync(entry, `
      import { Store } from '../../main/store/store';
      import { record } from './store.test-record';
      const store = Store.open(process.argv[2]!);
      const t0 = Date.now();
      let n = 0;
      // Read-then-write transactions, as updateMigration is, from both processes for 1.5 s.
      while (Date.now() - t0 < 1500) {
        const id = 'r' + (n % 20);
        store.updateMigration(record(id, { outcome: n % 7 === 0 ? 'completed' : 'running', reason: process.argv[3] + ' ' + n }));
        store.audit('child', 'tick', { n });
        n++;
      }
      store.close();
      process.stdout.write(String(n));
    `);
    const out = path.join(root, 'dist', 'test', 'writer-child.js');
    try {
      buildSync({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'cjs', packages: 'external', logLevel: 'error' });
      const run = (tag: string) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const c = spawn(process.execPath, [out, dir, tag], { cwd: root });
          let stdout = '';
          let stderr = '';
          c.stdout.on('data', (d) => (stdout += d));
          c.stderr.on('data', (d) => (stderr += d));
          c.on('exit', (code) => resolve({ code, stdout, stderr }));
        });
      const [a, b] = await Promise.all([run('a'), run('b')]);
      expect(a.stderr + b.stderr).toBe('');
      expect([a.code, b.code]).toEqual([0, 0]);
      const check = Store.open(dir);
      const audits = (check.db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'tick'").get() as { n: number }).n;
      expect(audits).toBe(Number(a.stdout) + Number(b.stdout));
      check.close();
    } finally {
      fs.rmSync(entry, { force: true });
    }
  });
});
