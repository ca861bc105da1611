// Live progress of running and queued migrations, fed by the batched
// `migrations:progress` event. Each migration keeps a bounded ring buffer of samples
// for its small charts. Components are notified at most every FLUSH_MS, and a row only
// re-renders when its own migration changed.
import { useSyncExternalStore } from 'react';
import type { MigrationRecord, Progress } from '../../../preload/model';
import { ferry } from '../api';

export interface Sample {
  /** Seconds since the migration started. */
  t: number;
  remainingMiB: number;
  dirtyMiBps: number;
  bandwidthMiBps: number;
  expectedDowntimeMs: number;
}

export interface ActiveEntry {
  progress: Progress;
  samples: Sample[];
}

/** Samples kept per migration: at ~4 events per second, half a minute of history. */
export const RING_CAPACITY = 120;
const FLUSH_MS = 250;
const MiB = 1024 * 1024;

class Ring {
  private buf: Sample[] = [];
  private head = 0;
  push(s: Sample) {
    if (this.buf.length < RING_CAPACITY) this.buf.push(s);
    else {
      this.buf[this.head] = s;
      this.head = (this.head + 1) % RING_CAPACITY;
    }
  }
  toArray(): Sample[] {
    return this.head === 0 ? this.buf.slice() : [...this.buf.slice(this.head), ...this.buf.slice(0, this.head)];
  }
}

interface Slot {
  progress: Progress;
  ring: Ring;
  snapshot: ActiveEntry | null;
}

const slots = new Map<string, Slot>();
const rowListeners = new Map<string, Set<() => void>>();
const listListeners = new Set<() => void>();
const dirty = new Set<string>();
let listChanged = false;
let ids: string[] = [];
let timer: ReturnType<typeof setTimeout> | null = null;

function schedule() {
  timer ??= setTimeout(flush, FLUSH_MS);
}

let counts = { running: 0, queued: 0 };

function flush() {
  timer = null;
  let queued = 0;
  for (const s of slots.values()) if (s.progress.phase === 'queued') queued++;
  const nextCounts = { running: slots.size - queued, queued };
  const countsChanged = nextCounts.running !== counts.running || nextCounts.queued !== counts.queued;
  if (countsChanged) counts = nextCounts;
  if (listChanged || countsChanged) {
    listChanged = false;
    ids = [...slots.keys()];
    listListeners.forEach((l) => l());
  }
  for (const id of dirty) rowListeners.get(id)?.forEach((l) => l());
  dirty.clear();
}

/**
 * Migrations that ended: the engine's last progress batch can arrive after the ended event
 * (both are batched), and must not bring a finished row back into the live views.
 */
const ended = new Set<string>();
const ENDED_KEPT = 2000;

function markEnded(id: string) {
  ended.add(id);
  if (ended.size > ENDED_KEPT) ended.delete(ended.values().next().value!);
}

function apply(p: Progress) {
  if (ended.has(p.id)) return;
  let slot = slots.get(p.id);
  if (!slot) {
    slot = { progress: p, ring: new Ring(), snapshot: null };
    slots.set(p.id, slot);
    listChanged = true;
  }
  slot.progress = p;
  if (p.phase !== 'queued' && p.phase !== 'setup') {
    slot.ring.push({
      t: p.elapsedMs / 1000,
      remainingMiB: p.remainingBytes / MiB,
      dirtyMiBps: p.dirtyMiBps,
      bandwidthMiBps: p.bandwidthMiBps,
      expectedDowntimeMs: p.expectedDowntimeMs,
    });
  }
  slot.snapshot = null;
  dirty.add(p.id);
}

export function applyProgress(batch: Progress[]): void {
  for (const p of batch) apply(p);
  schedule();
}

/** Migrations just started: shown as queued until their first progress event. */
export function addQueued(records: MigrationRecord[]): void {
  for (const r of records) {
    if (slots.has(r.id) || r.outcome === 'completed' || r.outcome === 'failed' || r.outcome === 'cancelled') continue;
    apply({
      id: r.id,
      vm: r.vm,
      from: r.from,
      to: r.to,
      strategy: r.strategy,
      phase: r.phase,
      round: r.rounds,
      remainingBytes: r.predicted.bytes,
      transferredBytes: 0,
      dirtyMiBps: 0,
      bandwidthMiBps: 0,
      expectedDowntimeMs: r.predicted.downtimeMs,
      etaMs: r.predicted.totalMs,
      throttlePct: 0,
      elapsedMs: 0,
      lastDecision: null,
    });
  }
  schedule();
}

export function removeActive(id: string): void {
  if (slots.delete(id)) {
    listChanged = true;
    dirty.add(id);
    schedule();
  }
}

let started = false;
function start() {
  if (started) return;
  started = true;
  ferry.on('migrations:progress', applyProgress);
  ferry.on('migrations:ended', (r) => {
    markEnded(r.id);
    removeActive(r.id);
    // At once, not at the next flush: the ended toast renders now, and for up to FLUSH_MS the
    // row beside it would still say the migration runs.
    if (timer) clearTimeout(timer);
    flush();
  });
  void resync();
}

/** Replaces the local view with the server's list (at start and after reconnecting). */
export async function resync(): Promise<void> {
  try {
    const active = (await ferry.migrations.active()).filter((p) => p.phase !== 'done');
    const live = new Set(active.map((p) => p.id));
    for (const id of slots.keys()) if (!live.has(id)) removeActive(id);
    applyProgress(active);
  } catch {
    /* the transport reports its own errors; events will fill the list */
  }
}

const subscribeList = (fn: () => void) => {
  listListeners.add(fn);
  return () => listListeners.delete(fn);
};

export function useActiveIds(): string[] {
  start();
  return useSyncExternalStore(subscribeList, () => ids);
}

export function useActiveCounts(): { running: number; queued: number } {
  start();
  return useSyncExternalStore(subscribeList, () => counts);
}

export function getActive(id: string): ActiveEntry | null {
  const slot = slots.get(id);
  if (!slot) return null;
  slot.snapshot ??= { progress: slot.progress, samples: slot.ring.toArray() };
  return slot.snapshot;
}

export function useActive(id: string): ActiveEntry | null {
  return useSyncExternalStore(
    (fn) => {
      let set = rowListeners.get(id);
      if (!set) rowListeners.set(id, (set = new Set()));
      set.add(fn);
      return () => {
        set.delete(fn);
        if (!set.size) rowListeners.delete(id);
      };
    },
    () => getActive(id),
  );
}
