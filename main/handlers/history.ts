import { FerryError } from '../../preload/contract';
import type { FerryApp } from '../app';
import type { Handlers } from '../router';

export const historyHandlers = (app: FerryApp): Pick<Handlers, 'history:list' | 'history:summary' | 'history:report' | 'history:pdf'> => ({
  'history:list': (f) => app.history.list(f),
  'history:summary': (f) => app.history.summary(f),
  'history:report': (r) => app.history.report(r.id),
  'history:pdf': async (r) => {
    app.history.report(r.id); // not-found first
    if (!app.printReport) throw new FerryError('unavailable', 'this Ferry cannot print reports (no browser engine); use the Print button');
    const pdf = await app.printReport(r.id);
    return { fileName: `ferry-report-${r.id}.pdf`, base64: pdf.toString('base64') };
  },
});
