// The Events view's service on a real store: the alarm rules (one alarm per fact), acknowledging
// (audited, off the unacknowledged count), the log's search and paging, and the contract's
// validation of its channels through the app's own router.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../main/store/store';
import { EventBus } from '../../main/events';
import { EventsLogService, migrationAlarm } from '../../main/services/events-log';
import { createApp } from '../../main/app';
import type { Alarm, DriverInfo, Host, Vm } from '../../preload/model';
import { encodeChanges } from '../../preload/inventory-part';
import { record } from './store.test-record';

let dir: string;
let store: Store;
let bus: EventBus;
let pushed: Alarm[];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-events-'));
  store = Store.open(dir);
  bus = new EventBus();
  pushed = [];
  bus.on('events:alarm', (a) => pushed.push(a));
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const host = (id: string, state: Host['state']): Host => ({
  id, name: id, cluster: 'lab', rack: 'r1', driver: 'sim', cores: 8, memoryMiB: 16384, nicMiBps: 1192, maintenance: false, state,
  usage: { cpuPct: 0, memUsedMiB: 0, nicOutMiBps: 0, nicInMiBps: 0 },
});

describe('alarm rules', () => {
  it('a failed migration raises one major alarm that links its report, once however often it is told', () => {
    const svc = new EventsLogService(store, bus, 'alice');
    const failed = record('m-f', { outcome: 'failed', downtimeMs: null, reason: 'the link to ams-h02 dropped' });
    bus.emit('migrations:ended', failed);
    bus.emit('migrations:ended', failed);
    bus.emit('migrations:ended', record('m-ok')); // 42 ms under the default 300 ms limit: nothing
    const list = svc.alarms();
    expect(list.unacknowledged).toBe(1);
    expect(list.alarms).toHaveLength(1);
    expect(list.alarms[0]).toMatchObject({ kind: 'migration-failed', severity: 'major', migrationId: 'm-f', ackedAt: null });
    expect(list.alarms[0]!.text).toMatch(/Migration of web-001 from ams-h01 to ams-h02 failed: the link to ams-h02 dropped/);
    expect(pushed.map((a) => a.migrationId)).toEqual(['m-f']);
    svc.dispose();
  });

  it('a migration whose pause went over its downtime limit raises one warning with both figures', () => {
    const svc = new EventsLogService(store, bus, 'alice');
    const over = record('m-over', { downtimeMs: 812, policy: { ...record('x').policy, downtimeLimitMs: 100 } });
    bus.emit('migrations:ended', over);
    bus.emit('migrations:ended', record('m-at-limit', { downtimeMs: 100, policy: { ...record('x').policy, downtimeLimitMs: 100 } }));
    const { alarms } = svc.alarms();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ kind: 'downtime-exceeded', severity: 'warning', migrationId: 'm-over' });
    expect(alarms[0]!.text).toContain('paused 812 ms');
    expect(alarms[0]!.text).toContain('downtime limit of 100 ms');
    svc.dispose();
  });

  it('a VM lost is one critical alarm, not also a failed migration, and the inventory saying so again adds none', () => {
    const svc = new EventsLogService(store, bus, 'alice');
    bus.emit('migrations:ended', record('m-lost', { outcome: 'failed', downtimeMs: null, reason: 'VM LOST: link to ams-h02 died during post-copy' }));
    const lostVm: Vm = {
      id: 'web-001', name: 'web-001', host: 'ams-h01', memoryMiB: 4096, vcpus: 2, state: 'lost', cpuPct: 0, antiAffinity: null,
      workload: { zeroFraction: 0.5, wssMiB: 512, dirtyMiBps: 20, readWssMiB: 800, readMiBps: 40 },
    };
    bus.emit('inventory:changed', { version: 2, since: 1, changed: encodeChanges([], [lostVm]) });
    const { alarms, unacknowledged } = svc.alarms();
    expect(unacknowledged).toBe(1);
    expect(alarms[0]).toMatchObject({ kind: 'vm-lost', severity: 'critical', migrationId: 'm-lost' });
    expect(migrationAlarm(record('m', { outcome: 'cancelled' }))).toBeNull();
    svc.dispose();
  });

  it('a host down past the grace raises one alarm; back up and down again raises another', () => {
    let now = 1000;
    const inv = { hosts: [host('h1', 'up'), host('h2', 'down')], vms: [] as Vm[] };
    const drivers: DriverInfo[] = [{ kind: 'sim', label: 'Simulator', state: 'degraded', hosts: 2, hostsUp: 1, detail: '2 simulated hosts, 1 down' }];
    const svc = new EventsLogService(store, bus, 'alice', { get: () => inv, driverInfo: () => drivers }, 5000, () => now);
    svc.start(false);
    expect(svc.alarms().unacknowledged).toBe(0); // within the grace: maybe still connecting
    now += 6000;
    svc.checkAll();
    svc.checkAll();
    expect(svc.alarms().alarms.map((a) => [a.kind, a.host])).toEqual([['host-unreachable', 'h2']]);
    const first = svc.alarms().alarms[0]!;
    svc.ack(first.id);
    bus.emit('inventory:changed', { version: 3, since: 2, changed: encodeChanges([host('h2', 'up')], []) });
    bus.emit('inventory:changed', { version: 4, since: 3, changed: encodeChanges([host('h2', 'down')], []) });
    now += 6000;
    bus.emit('inventory:changed', { version: 5, since: 4, changed: encodeChanges([host('h2', 'down')], []) });
    expect(svc.alarms().unacknowledged).toBe(1);
    expect(svc.alarms().alarms).toHaveLength(2);
    svc.dispose();
  });
});

describe('acknowledging', () => {
  it('clears the alarm from the unacknowledged count, says who and when, and is audited', () => {
    const svc = new EventsLogService(store, bus, 'alice');
    bus.emit('migrations:ended', record('m-1', { outcome: 'failed', downtimeMs: null, reason: 'refused' }));
    bus.emit('migrations:ended', record('m-2', { outcome: 'failed', downtimeMs: null, reason: 'refused' }));
    expect(svc.alarms().unacknowledged).toBe(2);
    const id = svc.alarms().alarms.find((a) => a.migrationId === 'm-1')!.id;
    const acked = svc.ack(id, 'bob');
    expect(acked).toMatchObject({ id, ackedBy: 'bob' });
    expect(acked.ackedAt).not.toBeNull();
    const list = svc.alarms();
    expect(list.unacknowledged).toBe(1);
    // The open one first, the acknowledged one after it.
    expect(list.alarms.map((a) => a.migrationId)).toEqual(['m-2', 'm-1']);
    expect(store.auditLog(1)[0]).toMatchObject({ actor: 'bob', action: 'alarm-ack', detail: { id, kind: 'migration-failed' } });
    expect(pushed.at(-1)).toMatchObject({ id, ackedBy: 'bob' });
    // A second acknowledgement changes nothing and writes no second audit row.
    svc.ack(id, 'carol');
    expect(store.auditLog(5).filter((r) => r.action === 'alarm-ack')).toHaveLength(1);
    expect(() => svc.ack('no-such-alarm')).toThrow(/no alarm no-such-alarm/);
    svc.dispose();
  });
});

describe('the events log', () => {
  it('finds a row by actor, action or detail, and merges the engine\'s migrations', () => {
    const svc = new EventsLogService(store, bus, 'alice');
    store.audit('alice', 'maintenance-enter', { host: 'lab-h2' });
    store.audit('bob', 'settings', { changed: ['policy.downtimeLimitMs'] });
    store.audit('carol', 'evacuate', { hosts: ['rack_7%'] });
    store.insertMigration(record('m-1', { vm: 'big-db', startedBy: 'dave', reason: 'pre-copy converges in 4 rounds', queuedAt: new Date().toISOString() }));
    expect(svc.list({ q: 'bob', limit: 50 }).rows.map((r) => r.action)).toEqual(['settings']);
    expect(svc.list({ q: 'MAINTENANCE-ENTER', limit: 50 }).rows.map((r) => r.actor)).toEqual(['alice']);
    const byDetail = svc.list({ q: 'lab-h2', limit: 50 }).rows;
    expect(byDetail.map((r) => r.actor)).toContain('alice');
    expect(byDetail.find((r) => r.actor === 'alice')!.summary).toBe('host lab-h2');
    // % and _ are matched as themselves, not as wildcards.
    expect(svc.list({ q: '7%', limit: 50 }).rows.map((r) => r.actor)).toEqual(['carol']);
    expect(svc.list({ q: 'h_', limit: 50 }).rows).toEqual([]);
    const engine = svc.list({ q: 'converges in 4', limit: 50 }).rows;
    expect(engine).toHaveLength(1);
    expect(engine[0]).toMatchObject({ source: 'engine', actor: 'dave', action: 'migration completed', migrationId: 'm-1' });
    expect(engine[0]!.summary).toMatch(/^big-db ams-h01 → ams-h02, precopy, paused 42 ms \(limit 300 ms\)/);
    svc.dispose();
  });

  it('pages newest first without losing or repeating a row, and bounds the page', () => {
    const svc = new EventsLogService(store, bus, 'alice');
    // Same timestamps on purpose: the cursor must break ties.
    const at = '2026-11-20T10:00:00.000Z';
    for (let i = 0; i < 25; i++) store.db.prepare('INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)').run(at, 'ops', `step-${i}`, '{}');
    for (let i = 0; i < 5; i++) store.insertMigration(record(`m-${i}`, { queuedAt: at }));
    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const page = svc.list({ limit: 7, before });
      expect(page.rows.length).toBeLessThanOrEqual(7);
      seen.push(...page.rows.map((r) => r.key));
      before = page.next ?? undefined;
      pages++;
    } while (before && pages < 20);
    expect(pages).toBe(5);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
    // At one time: the newest first on each side, the engine's rows before the audit's.
    const first = svc.list({ limit: 7 }).rows.map((r) => r.migrationId ?? r.action);
    expect(first).toEqual(['m-4', 'm-3', 'm-2', 'm-1', 'm-0', 'step-24', 'step-23']);
    expect(svc.list({ q: 'step-1', limit: 100 }).rows).toHaveLength(11); // step-1, step-10..19
    expect(() => svc.list({ limit: 5, before: 'nonsense' })).toThrow(/next/);
    svc.dispose();
  });
});

describe('the events channels at the boundary', () => {
  it('refuse bad input and answer good input', async () => {
    const appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-events-app-'));
    const app = createApp({ dataDir: appDir, host: 'cli', longLived: false, speed: 'virtual' });
    try {
      const bad: [string, unknown][] = [
        ['events:list', { limit: 0 }],
        ['events:list', { limit: 501 }],
        ['events:list', { limit: 1.5 }],
        ['events:list', { q: 'x'.repeat(201) }],
        ['events:list', { q: 7 }],
        ['events:list', { before: 'x'.repeat(121) }],
        ['events:list', { sql: 'DROP TABLE audit' }],
        ['events:alarms', { all: true }],
        ['events:ack', {}],
        ['events:ack', { id: '' }],
        ['events:ack', { id: 'a', by: 'mallory' }],
      ];
      for (const [channel, req] of bad) {
        const env = await app.router.dispatch(channel, req);
        expect(env, `${channel} ${JSON.stringify(req)}`).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      }
      expect(await app.router.dispatch('events:ack', { id: 'nope' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
      const list = await app.router.dispatch('events:list', {});
      expect(list.ok).toBe(true);
      // limit defaults to 100; the seeded datacenter's load is in the audit log.
      expect((list as { value: { rows: unknown[] } }).value.rows.length).toBeLessThanOrEqual(100);
      expect(await app.router.dispatch('events:alarms', {})).toMatchObject({ ok: true, value: { unacknowledged: 0 } });
    } finally {
      await app.close();
      fs.rmSync(appDir, { recursive: true, force: true });
    }
  });
});
