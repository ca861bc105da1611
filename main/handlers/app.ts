import type { AppInfo } from '../../preload/contract';
import type { DriverInfo } from '../../preload/model';
import type { Handlers } from '../router';

export interface AppInfoSource {
  version: string;
  host: AppInfo['host'];
  dataDir: string;
  clock: string;
  drivers(): DriverInfo[];
}

export const appHandlers = (src: AppInfoSource): Pick<Handlers, 'app:info'> => ({
  'app:info': () => ({ version: src.version, host: src.host, dataDir: src.dataDir, drivers: src.drivers(), clock: src.clock }),
});
