// Who prints a migration's report page to PDF: set by the host that can render the
// console (Electron's printToPDF, or `ferry serve`'s headless Chromium); none elsewhere.
// Each print starts a browser engine, so a few run at a time, a few more wait their turn,
// and beyond that a request is refused in words.
import { FerryError } from '../../preload/contract';

export type PrintFn = (id: string) => Promise<Buffer>;

/** PDFs printed at once, and requests that may wait for their turn. */
export const MAX_PRINTS = 2;
export const MAX_WAITING_PRINTS = 8;

export class ReportPrinter {
  private fn: PrintFn | null = null;
  private running = 0;
  private waiting: (() => void)[] = [];

  constructor(
    private readonly maxRunning = MAX_PRINTS,
    private readonly maxWaiting = MAX_WAITING_PRINTS,
  ) {}

  /** Installs a printer; the returned function puts the previous one back. */
  use(fn: PrintFn): () => void {
    const previous = this.fn;
    this.fn = fn;
    return () => {
      this.fn = previous;
    };
  }

  async print(id: string): Promise<Buffer> {
    if (!this.fn) throw new FerryError('unavailable', 'this Ferry cannot print reports (no browser engine); use the Print button');
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new FerryError('unavailable', `too many PDF reports at once (${this.running} printing, ${this.waiting.length} waiting); retry in a moment`);
      }
      // The slot is handed over by the print that ends (running stays as it is).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      const fn = this.fn;
      if (!fn) throw new FerryError('unavailable', 'the console that printed reports has stopped');
      return await fn(id);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
