// In-page notifications. Any module can call toast(); <Toasts/> renders them in an
// aria-live region. Errors stay longer than confirmations.
import { useSyncExternalStore } from 'react';
import { createStore } from './store';

export type ToastKind = 'info' | 'success' | 'warning' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: string;
  link?: { href: string; label: string };
  testId?: string;
}

const store = createStore<Toast[]>([]);
let nextId = 1;
const MAX_VISIBLE = 5;

export function toast(t: Omit<Toast, 'id'>, ttlMs = t.kind === 'error' || t.kind === 'warning' ? 12_000 : 6_000): number {
  const id = nextId++;
  store.update((list) => [...list, { ...t, id }].slice(-MAX_VISIBLE));
  if (ttlMs > 0) setTimeout(() => dismiss(id), ttlMs);
  return id;
}

export function dismiss(id: number): void {
  store.update((list) => list.filter((t) => t.id !== id));
}

export function useToasts(): Toast[] {
  return useSyncExternalStore(store.subscribe, store.get);
}
