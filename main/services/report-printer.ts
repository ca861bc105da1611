// Who prints a migration's report page to PDF: set by the host that can render the
// console (Electron's printToPDF, or `ferry serve`'s headless Chromium); none elsewhere.
import { FerryError } from '../../preload/contract';

export type PrintFn = (id: string) => Promise<Buffer>;

export class ReportPrinter {
  private fn: PrintFn | null = null;

  /** Installs a printer; the returned function puts the previous one back. */
  use(fn: PrintFn): () => void {
    const previous = this.fn;
    this.fn = fn;
    return () => {
      this.fn = previous;
    };
  }

  print(id: string): Promise<Buffer> {
    if (!this.fn) throw new FerryError('unavailable', 'this Ferry cannot print reports (no browser engine); use the Print button');
    return this.fn(id);
  }
}
