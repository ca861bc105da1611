import { useEffect, useState } from 'react';
import type { AppInfo } from '../../../preload/contract';
import { ferry } from '../api';
import { errorText } from '../format';

let cached: Promise<AppInfo> | null = null;

export function useAppInfo(): { info: AppInfo | null; error: string | null } {
  const [state, setState] = useState<{ info: AppInfo | null; error: string | null }>({ info: null, error: null });
  useEffect(() => {
    let live = true;
    cached ??= ferry.app.info();
    cached.then(
      (info) => live && setState({ info, error: null }),
      (e) => {
        cached = null;
        if (live) setState({ info: null, error: errorText(e) });
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
