import type { FerryApp } from '../app';
import { VERSION } from '../app';
import type { Handlers } from '../router';

export const appHandlers = (app: FerryApp): Pick<Handlers, 'app:info'> => ({
  'app:info': () => ({
    version: VERSION,
    host: app.options.host === 'electron' ? 'electron' : 'browser',
    dataDir: app.options.dataDir,
    drivers: ['sim'],
    clock: String(app.options.speed ?? 'real time'),
  }),
});
