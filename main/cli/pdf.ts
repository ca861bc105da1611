// `ferry report <id> --pdf out.pdf`: the console's own report page, printed by a headless
// Chromium with the report's print stylesheet, so the PDF is what people see on screen.
import fs from 'node:fs';
import path from 'node:path';
import type { FerryApp } from '../app';
import { serve } from '../server/serve';

/** `ferry report <id> --pdf out.pdf`: a short-lived console server prints it. */
export async function reportPdf(app: FerryApp, id: string, out: string, staticDir: string): Promise<void> {
  app.history.report(id); // not-found before starting anything
  const served = await serve(app, { port: 0, staticDir });
  try {
    writePdf(out, await app.printer.print(id));
  } finally {
    await served.close();
  }
}

export function writePdf(out: string, pdf: Buffer): void {
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, pdf);
}
