import type { FerryApp } from '../app';
import type { Handlers } from '../router';

export const historyHandlers = (app: FerryApp): Pick<Handlers, 'history:list' | 'history:summary' | 'history:report'> => ({
  'history:list': (f) => app.history.list(f),
  'history:summary': (f) => app.history.summary(f),
  'history:report': (r) => app.history.report(r.id),
});
