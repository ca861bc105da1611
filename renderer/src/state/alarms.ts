// The alarms (Events view, nav badge): fetched once, kept current by 'events:alarm' (raised or
// acknowledged, from any window or the CLI). A new alarm is told once: a toast and, when the
// window is hidden, a desktop notification; not for a failed migration (or a VM lost in one),
// which the migration-ended toast already tells.
import { useEffect, useSyncExternalStore } from 'react';
import type { Alarm, AlarmList } from '../../../preload/model';
import { ferry } from '../api';
import { href } from '../router';
import { createStore } from './store';
import { toast } from './toasts';

const store = createStore<AlarmList | null>(null);
let loading: Promise<void> | null = null;
let subscribed = false;

export function reloadAlarms(): Promise<void> {
  loading ??= ferry.events.alarms().then(
    (list) => {
      store.set(list);
      loading = null;
    },
    () => {
      loading = null;
    },
  );
  return loading;
}

function merge(a: Alarm): void {
  const cur = store.get();
  if (!cur) return void reloadAlarms();
  const was = cur.alarms.find((x) => x.id === a.id);
  const alarms = [a, ...cur.alarms.filter((x) => x.id !== a.id)].sort((x, y) => Number(x.ackedAt !== null) - Number(y.ackedAt !== null) || y.at.localeCompare(x.at));
  const opened = a.ackedAt === null && !was ? 1 : 0;
  const closed = a.ackedAt !== null && was && was.ackedAt === null ? 1 : 0;
  store.set({ alarms, unacknowledged: cur.unacknowledged + opened - closed });
}

const TOAST_KIND = { critical: 'error', major: 'error', warning: 'warning' } as const;

/** The link an alarm carries: its migration's report, else the map where its host is. */
export function alarmLink(a: Alarm): { href: string; label: string } | null {
  if (a.migrationId) return { href: href({ view: 'report', id: a.migrationId }), label: 'Open report' };
  if (a.host) return { href: href({ view: 'map' }), label: `Show ${a.host} on the map` };
  return null;
}

const TITLE: Record<Alarm['kind'], string> = {
  'host-unreachable': 'Host unreachable',
  'driver-unreachable': 'Driver unreachable',
  'migration-failed': 'Migration failed',
  'downtime-exceeded': 'Downtime over its limit',
  'vm-lost': 'VM lost',
};
export const alarmTitle = (a: Alarm) => TITLE[a.kind];

function tell(a: Alarm): void {
  // A failed migration's end is already a toast and a notification: say it once.
  if (a.migrationId && (a.kind === 'migration-failed' || a.kind === 'vm-lost')) return;
  const title = alarmTitle(a);
  toast({ kind: TOAST_KIND[a.severity], title, body: a.text, link: alarmLink(a) ?? { href: href({ view: 'events' }), label: 'Open Events' }, testId: `toast-alarm-${a.id}` });
  if (document.hidden && 'Notification' in window && Notification.permission === 'granted') new Notification(title, { body: a.text });
}

/** Subscribes once for the whole window (the shell calls it). */
export function useAlarmFeed(): void {
  useEffect(() => {
    if (subscribed) return;
    subscribed = true;
    void reloadAlarms();
    const off = ferry.on('events:alarm', (a) => {
      const known = store.get()?.alarms.some((x) => x.id === a.id);
      merge(a);
      if (a.ackedAt === null && !known) tell(a);
    });
    return () => {
      subscribed = false;
      off();
    };
  }, []);
}

export function useAlarms(): AlarmList | null {
  return useSyncExternalStore(store.subscribe, store.get);
}

export async function acknowledge(id: string): Promise<void> {
  merge(await ferry.events.ack({ id }));
}
