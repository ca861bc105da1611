// The settings, read once and followed as they change (from this window, another, or the CLI).
import { useEffect, useState } from 'react';
import type { Settings } from '../../../preload/model';
import { ferry } from '../api';

let latest: Settings | null = null;
let loading: Promise<Settings> | null = null;

/** The current settings; null until the first answer (callers show the built-in default meanwhile). */
export function useSettings(): Settings | null {
  const [s, setS] = useState<Settings | null>(latest);
  useEffect(() => {
    let live = true;
    loading ??= ferry.settings.get();
    loading.then(
      (x) => {
        latest = x;
        if (live) setS(x);
      },
      () => (loading = null),
    );
    const off = ferry.on('settings:changed', (x) => {
      latest = x;
      if (live) setS(x);
    });
    return () => {
      live = false;
      off();
    };
  }, []);
  return s;
}
