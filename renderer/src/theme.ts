// Light/dark theme: follows the system (prefers-color-scheme) unless the person picks one.
// The choice lives in localStorage and is applied as <html data-theme="...">.
import { useCallback, useSyncExternalStore } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'ferry.theme';
const listeners = new Set<() => void>();

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

const systemDark = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

/** Always sets data-theme, resolving 'system' from the OS, so the CSS has one dark palette. */
export function applyTheme(choice: ThemeChoice = read()): void {
  const el = document.documentElement;
  el.dataset.theme = choice === 'system' ? (systemDark?.matches ? 'dark' : 'light') : choice;
}

// Following the system: re-apply when the OS switches between light and dark.
systemDark?.addEventListener('change', () => {
  if (read() === 'system') applyTheme('system');
});

export function useTheme(): [ThemeChoice, (c: ThemeChoice) => void] {
  const choice = useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    read,
  );
  const set = useCallback((c: ThemeChoice) => {
    try {
      if (c === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, c);
    } catch {
      /* storage disabled: the choice lasts for this page only */
    }
    applyTheme(c);
    listeners.forEach((l) => l());
  }, []);
  return [choice, set];
}
