// Typed push events from main to every connected UI (IPC or WebSocket).
import type { EventName, Events } from '../preload/contract';

export class EventBus {
  private listeners = new Map<EventName, Set<(p: never) => void>>();

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (p: never) => void);
    return () => set.delete(listener as (p: never) => void);
  }

  /** Listeners subscribed now, per event (a leak shows as a count that only grows). */
  listenerCounts(): Partial<Record<EventName, number>> {
    return Object.fromEntries([...this.listeners].map(([e, set]) => [e, set.size]));
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    this.listeners.get(event)?.forEach((l) => (l as (p: Events[E]) => void)(payload));
  }
}
