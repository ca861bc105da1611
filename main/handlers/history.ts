import type { Handlers } from '../router';
import type { HistoryService } from '../services/history';
import type { ReportPrinter } from '../services/report-printer';

export const historyHandlers = (history: HistoryService, printer: ReportPrinter): Pick<Handlers, 'history:list' | 'history:summary' | 'history:report' | 'history:pdf'> => ({
  'history:list': (f) => history.list(f),
  'history:summary': (f) => history.summary(f),
  'history:report': (r) => history.report(r.id),
  'history:pdf': async (r) => {
    history.report(r.id); // not-found first
    const pdf = await printer.print(r.id);
    return { fileName: `ferry-report-${r.id}.pdf`, base64: pdf.toString('base64') };
  },
});
