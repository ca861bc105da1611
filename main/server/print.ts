// Printing the console's report pages to PDF with a headless Chromium: how `ferry serve`
// answers history:pdf, and what `ferry report --pdf` uses. (Electron prints with its own
// printToPDF instead.)
import fs from 'node:fs';
import { FerryError } from '../../preload/contract';
import { REPORT_READY_SELECTOR } from '../../common/report-ready';

/**
 * Headless Chromium on a closed network, as root: no sandbox (root), no GPU, and none of
 * the background connections a closed network refuses. Shared by --pdf, tests and benches.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export function findChromium(): string | null {
  const env = process.env.FERRY_CHROMIUM;
  if (env) return fs.existsSync(env) ? env : null;
  return CANDIDATES.find((c) => fs.existsSync(c)) ?? null;
}

/**
 * A printer for `ferry serve`: a headless Chromium opens the server's own report page and
 * prints it with the report's print stylesheet. Chromium starts per request and exits after.
 */
export function chromiumPrinter(consoleUrl: string): (id: string) => Promise<Buffer> {
  return async (id) => {
    const exe = findChromium();
    if (!exe) {
      throw new FerryError('unavailable', `printing a PDF needs Chromium or Chrome (looked for ${CANDIDATES.join(', ')}; set FERRY_CHROMIUM to its path)`);
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: exe, headless: true, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage();
      await page.goto(`${consoleUrl}#/report/${encodeURIComponent(id)}`);
      await page.waitForSelector(REPORT_READY_SELECTOR, { timeout: 30_000 });
      return await page.pdf({ format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
    } finally {
      await browser.close();
    }
  };
}
