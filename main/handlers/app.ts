import type { AppInfo, Diagnostics } from '../../preload/contract';
import type { DriverInfo } from '../../preload/model';
import type { Handlers } from '../router';

export interface AppInfoSource {
  version: string;
  host: AppInfo['host'];
  dataDir: string;
  clock: string;
  drivers(): DriverInfo[];
  diagnostics(): Diagnostics;
}

export const appHandlers = (src: AppInfoSource): Pick<Handlers, 'app:info' | 'app:diagnostics'> => ({
  'app:info': () => ({ version: src.version, host: src.host, dataDir: src.dataDir, drivers: src.drivers(), clock: src.clock }),
  'app:diagnostics': () => src.diagnostics(),
});
