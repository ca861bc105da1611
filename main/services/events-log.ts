// The Events view's service: the events log (audit rows and the engine's migrations, searchable,
// paged) and alarms raised from what happens: a host or driver unreachable, a migration failed,
// a pause over its policy's downtime limit, a VM lost. Alarms are kept in the store, one open
// alarm per fact, pushed as 'events:alarm', and acknowledged (audited).
import { randomUUID } from 'node:crypto';
import { FerryError } from '../../preload/contract';
import { decodeColumns } from '../../preload/inventory-part';
import type { Alarm, AlarmKind, AlarmList, AlarmSeverity, DriverInfo, Host, LogEntry, LogPage, MigrationRecord, Vm } from '../../preload/model';
import type { EventBus } from '../events';
import type { EventsLogRow, Store } from '../store/store';

/** An alarm before it is stored: `key` names the fact it is about. */
export interface AlarmDraft {
  key: string;
  kind: AlarmKind;
  severity: AlarmSeverity;
  text: string;
  migrationId: string | null;
  host: string | null;
}

export const MAX_LOG_PAGE = 500;
/** How often hosts and drivers are looked at besides inventory changes (console only). */
const HEALTH_EVERY_MS = 10_000;

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 1 : 2)} s` : `${Math.round(v)} ms`;
}

/** The alarm a migration's end raises, if any: lost beats failed; a pause over the limit. */
export function migrationAlarm(r: MigrationRecord): AlarmDraft | null {
  const route = `${r.from} to ${r.to}`;
  if (r.outcome === 'failed' && /^VM LOST/i.test(r.reason)) {
    return {
      key: `vm-lost:${r.vmId}`, kind: 'vm-lost', severity: 'critical', migrationId: r.id, host: r.from,
      text: `${r.vm} was lost while migrating from ${route}: ${r.reason.replace(/^VM LOST:\s*/i, '')}. ` +
        `Its memory is no longer whole on either host: restart it from its disk and check its data before putting it back in service.`,
    };
  }
  if (r.outcome === 'failed') {
    return {
      key: `migration-failed:${r.id}`, kind: 'migration-failed', severity: 'major', migrationId: r.id, host: r.from,
      text: `Migration of ${r.vm} from ${route} failed: ${r.reason}. Open the report to see where it stopped, then retry or pick another host.`,
    };
  }
  const limit = r.policy?.downtimeLimitMs;
  if (r.outcome === 'completed' && r.downtimeMs !== null && typeof limit === 'number' && r.downtimeMs > limit) {
    return {
      key: `downtime-exceeded:${r.id}`, kind: 'downtime-exceeded', severity: 'warning', migrationId: r.id, host: r.to,
      text: `${r.vm} was paused ${ms(r.downtimeMs)} moving from ${route} (${r.strategy}), over its downtime limit of ${ms(limit)}. ` +
        (r.strategy === 'stop-and-copy'
          ? 'Stop-and-copy pauses the guest for the whole copy: use pre-copy or post-copy for this VM, or raise the limit.'
          : 'Raise the limit if the guest can bear it, or migrate it with post-copy next time: its pause does not grow with the dirty rate.'),
    };
  }
  return null;
}

export function hostAlarm(h: Pick<Host, 'id' | 'name' | 'cluster' | 'driver'>): AlarmDraft {
  return {
    key: `host-unreachable:${h.id}`, kind: 'host-unreachable', severity: 'major', migrationId: null, host: h.name,
    text: `Host ${h.name} (cluster ${h.cluster}, ${h.driver}) is unreachable: no VM can move to or from it. Check its power and network, or put it in maintenance.`,
  };
}

export function driverAlarm(d: DriverInfo): AlarmDraft {
  return {
    key: `driver-unreachable:${d.kind}`, kind: 'driver-unreachable', severity: 'major', migrationId: null, host: null,
    text: `${d.label}: none of its hosts answers (${d.detail}). Check the connections in Hosts.`,
  };
}

export function vmLostAlarm(v: Pick<Vm, 'id' | 'name' | 'host'>): AlarmDraft {
  return {
    key: `vm-lost:${v.id}`, kind: 'vm-lost', severity: 'critical', migrationId: null, host: v.host,
    text: `${v.name} is lost: its host no longer runs it. Restart it from its disk and check its data.`,
  };
}

/** An audit row's detail in one line: "vm web-01, to lab-h2"; long values cut. */
export function summarize(detail: unknown): string {
  const words = (v: unknown): string => {
    if (v === null || v === undefined) return '—';
    if (Array.isArray(v)) return v.length > 5 ? `${v.slice(0, 5).map(words).join(', ')} and ${v.length - 5} more` : v.map(words).join(', ');
    if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k} ${words(x)}`).join(', ');
    return String(v);
  };
  const text = words(detail);
  return text.length > 240 ? `${text.slice(0, 239)}…` : text;
}

function entryOf(r: EventsLogRow): LogEntry {
  let detail: unknown;
  try {
    detail = JSON.parse(r.detail);
  } catch {
    detail = r.detail;
  }
  const engine = r.key.startsWith('m');
  if (engine && detail && typeof detail === 'object') {
    // A migration: what the engine decided and how it went, in words.
    const d = detail as { vm: string; from: string; to: string; strategy: string; reason: string; downtimeMs: number | null; downtimeLimitMs: number | null };
    const pause = d.downtimeMs === null ? '' : `, paused ${ms(d.downtimeMs)}${d.downtimeLimitMs === null ? '' : ` (limit ${ms(d.downtimeLimitMs)})`}`;
    detail = `${d.vm} ${d.from} → ${d.to}, ${d.strategy}${pause}: ${d.reason}`;
  }
  return { key: r.key, at: r.at, actor: r.actor, action: r.action, summary: summarize(detail), source: engine ? 'engine' : 'audit', migrationId: r.migration_id };
}

export class EventsLogService {
  /** Since when each host or driver has been seen unreachable (epoch ms); raised once past the grace. */
  private readonly downSince = new Map<string, number>();
  private readonly raisedDown = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly off: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly actor: string,
    /** The inventory and the drivers' health, for host alarms (absent: migration alarms only). */
    private readonly inventory?: { get(): { hosts: Host[]; vms: Vm[] }; driverInfo(): DriverInfo[] },
    /**
     * How long a host or driver must stay unreachable before it raises an alarm: a driver
     * still connecting at start, or a host rebooting, is not yet a fact to act on.
     */
    private readonly graceMs = 15_000,
    private readonly now: () => number = Date.now,
  ) {
    this.off.push(events.on('migrations:ended', (r) => this.ended(r)));
    this.off.push(events.on('inventory:changed', (p) => this.inventoryChanged(p.changed && decodeColumns(p.changed))));
  }

  /** Looks at every host now and, when `watch`, every few seconds (how the grace runs out). */
  start(watch: boolean): void {
    this.checkAll();
    if (watch && !this.timer) {
      this.timer = setInterval(() => this.checkAll(), HEALTH_EVERY_MS);
      this.timer.unref();
    }
  }

  list(req: { q?: string; limit: number; before?: string }): LogPage {
    const limit = Math.min(Math.max(1, req.limit), MAX_LOG_PAGE);
    let before: { at: string; key: string } | undefined;
    if (req.before) {
      const i = req.before.lastIndexOf('|');
      if (i <= 0) throw new FerryError('bad-request', 'before must be the `next` of a previous page');
      before = { at: req.before.slice(0, i), key: req.before.slice(i + 1) };
    }
    const q = req.q?.trim() || undefined;
    // One more than asked: whether there is a next page.
    const rows = this.store.eventsLog(q, limit + 1, before).map(entryOf);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { rows: page, next: rows.length > limit && last ? `${last.at}|${last.key}` : null };
  }

  alarms(): AlarmList {
    return { alarms: this.store.alarms(), unacknowledged: this.store.unacknowledgedAlarms() };
  }

  ack(id: string, by = this.actor): Alarm {
    const a = this.store.getAlarm(id);
    if (!a) throw new FerryError('not-found', `no alarm ${id}`);
    if (a.ackedAt) return a;
    this.store.ackAlarm(id, by, new Date().toISOString());
    this.store.audit(by, 'alarm-ack', { id, kind: a.kind, text: a.text.slice(0, 200) });
    const acked = this.store.getAlarm(id)!;
    this.events.emit('events:alarm', acked);
    return acked;
  }

  /** Stores and pushes the alarm unless one about the same fact is still open; returns it if raised. */
  raise(d: AlarmDraft): Alarm | null {
    if (this.store.openAlarm(d.key)) return null;
    const alarm: Alarm = { id: randomUUID(), kind: d.kind, severity: d.severity, text: d.text, at: new Date().toISOString(), migrationId: d.migrationId, host: d.host, ackedAt: null, ackedBy: null };
    try {
      this.store.insertAlarm({ ...alarm, key: d.key });
    } catch {
      return null; // the disk refuses writes: the store has said so once already
    }
    this.events.emit('events:alarm', alarm);
    return alarm;
  }

  private ended(r: MigrationRecord): void {
    const d = migrationAlarm(r);
    if (d) this.raise(d);
  }

  private inventoryChanged(changed?: { hosts: Host[]; vms: Vm[] }): void {
    if (!changed) return this.checkAll();
    for (const h of changed.hosts) this.seen(`host:${h.id}`, h.state === 'down', () => hostAlarm(h));
    for (const v of changed.vms) if (v.state === 'lost') this.raise(vmLostAlarm(v));
  }

  /** A host's or driver's state as seen now: raises its alarm once it has been down past the grace. */
  private seen(id: string, down: boolean, draft: () => AlarmDraft): void {
    if (!down) {
      this.downSince.delete(id);
      this.raisedDown.delete(id);
      return;
    }
    const since = this.downSince.get(id) ?? this.now();
    this.downSince.set(id, since);
    if (this.raisedDown.has(id) || this.now() - since < this.graceMs) return;
    this.raisedDown.add(id);
    this.raise(draft());
  }

  /** Every host, lost VM and driver now. */
  checkAll(): void {
    if (!this.inventory) return;
    const inv = this.inventory.get();
    for (const h of inv.hosts) this.seen(`host:${h.id}`, h.state === 'down', () => hostAlarm(h));
    for (const v of inv.vms) if (v.state === 'lost') this.raise(vmLostAlarm(v));
    for (const d of this.inventory.driverInfo()) this.seen(`driver:${d.kind}`, d.state === 'unreachable', () => driverAlarm(d));
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const f of this.off) f();
  }
}
