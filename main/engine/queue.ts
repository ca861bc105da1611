// Which queued migration runs next. Concurrency is limited per source host (outbound),
// per destination host (inbound) and in total; among the sources the queue goes round
// robin, so a host being evacuated (dozens of VMs queued at once) cannot starve the one
// migration another host asked for a moment later. Priority goes before the ring: an
// evacuation's moves start ahead of ordinary migrations (a drain is not starved by them),
// yet only within the per-host limits, so a migration off another host still starts when
// the evacuated hosts' slots are full. A held group (a paused evacuation) waits in place.
import { DEFAULT_LIMITS } from './constants';

export interface Limits {
  perHostOut: number;
  perHostIn: number;
  total: number;
}

export interface Schedulable {
  id: string;
  fromId: string;
  toId: string;
  /** Higher starts first (default 0). */
  priority?: number;
  /** Items held together (one evacuation): see hold(). */
  group?: string;
}

export class FairQueue<T extends Schedulable> {
  /** Every source ever queued, in first-seen order: the round-robin ring. */
  private readonly sources: string[] = [];
  private readonly waiting = new Map<string, T[]>();
  private readonly running = new Map<string, T>();
  private readonly out = new Map<string, number>();
  private readonly in = new Map<string, number>();
  /** Index in `sources` of the source served last. */
  private cursor = -1;
  private readonly held = new Set<string>();

  constructor(readonly limits: Limits = { ...DEFAULT_LIMITS }) {}

  push(item: T): void {
    let fifo = this.waiting.get(item.fromId);
    if (!fifo) {
      fifo = [];
      this.waiting.set(item.fromId, fifo);
      this.sources.push(item.fromId);
    }
    fifo.push(item);
  }

  /** Takes a queued item out (cancelled before it started). */
  remove(id: string): T | undefined {
    for (const fifo of this.waiting.values()) {
      const i = fifo.findIndex((x) => x.id === id);
      if (i >= 0) return fifo.splice(i, 1)[0];
    }
    return undefined;
  }

  /**
   * The next item allowed to start, marked running; null when nothing may start now.
   * Within one source the order is FIFO, except that an item whose destination is full
   * does not hold back the ones behind it bound elsewhere.
   */
  next(): T | null {
    if (this.running.size >= this.limits.total) return null;
    const n = this.sources.length;
    let pick: { i: number; j: number; priority: number } | null = null;
    for (let k = 1; k <= n; k++) {
      const i = (this.cursor + k) % n;
      const source = this.sources[i]!;
      if ((this.out.get(source) ?? 0) >= this.limits.perHostOut) continue;
      const fifo = this.waiting.get(source)!;
      for (let j = 0; j < fifo.length; j++) {
        const x = fifo[j]!;
        const priority = x.priority ?? 0;
        if (pick && priority <= pick.priority) continue;
        if ((this.in.get(x.toId) ?? 0) >= this.limits.perHostIn || (x.group !== undefined && this.held.has(x.group))) continue;
        pick = { i, j, priority };
      }
    }
    if (!pick) return null;
    const item = this.waiting.get(this.sources[pick.i]!)!.splice(pick.j, 1)[0]!;
    this.cursor = pick.i;
    this.markRunning(item);
    return item;
  }

  /** Holds a group's waiting items (they keep their place) until released; running ones go on. */
  hold(group: string, on: boolean): void {
    if (on) this.held.add(group);
    else this.held.delete(group);
  }

  isHeld(group: string): boolean {
    return this.held.has(group);
  }

  /** Waiting items of a group. */
  waitingIn(group: string): T[] {
    const out: T[] = [];
    for (const fifo of this.waiting.values()) for (const x of fifo) if (x.group === group) out.push(x);
    return out;
  }

  /** An item that is already running elsewhere (adopted after a restart) takes its slots. */
  adoptRunning(item: T): void {
    this.markRunning(item);
  }

  /** A running item ended: its slots are free again. */
  finished(item: T): void {
    if (!this.running.delete(item.id)) return;
    this.out.set(item.fromId, (this.out.get(item.fromId) ?? 1) - 1);
    this.in.set(item.toId, (this.in.get(item.toId) ?? 1) - 1);
  }

  get queuedCount(): number {
    let n = 0;
    for (const fifo of this.waiting.values()) n += fifo.length;
    return n;
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Migrations running or queued out of / into a host (for link-share estimates). */
  load(hostId: string): { out: number; in: number } {
    let out = this.out.get(hostId) ?? 0;
    let inn = this.in.get(hostId) ?? 0;
    for (const fifo of this.waiting.values()) {
      for (const x of fifo) {
        if (x.fromId === hostId) out++;
        if (x.toId === hostId) inn++;
      }
    }
    return { out, in: inn };
  }

  private markRunning(item: T): void {
    this.running.set(item.id, item);
    this.out.set(item.fromId, (this.out.get(item.fromId) ?? 0) + 1);
    this.in.set(item.toId, (this.in.get(item.toId) ?? 0) + 1);
  }
}
