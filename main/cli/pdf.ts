// `ferry report <id> --pdf out.pdf`: the console's own report page, printed by a headless
// Chromium with the report's print stylesheet, so the PDF is what people see on screen.
// (In the desktop app the report's Print button uses Electron's printing instead.)
import fs from 'node:fs';
import path from 'node:path';
import { FerryError } from '../../preload/contract';
import type { FerryApp } from '../app';
import { serve } from '../server/serve';

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

export async function reportPdf(app: FerryApp, id: string, out: string, staticDir: string): Promise<void> {
  app.history.report(id); // not-found before starting anything
  const exe = findChromium();
  if (!exe) {
    throw new FerryError('unavailable', `--pdf needs Chromium or Chrome (looked for ${CANDIDATES.join(', ')}; set FERRY_CHROMIUM to its path)`);
  }
  const { chromium } = await import('playwright-core');
  const served = await serve(app, { port: 0, staticDir });
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${served.url}#/report/${encodeURIComponent(id)}`);
    await page.waitForSelector('[data-testid="report-timeline"]', { timeout: 30_000 });
    await page.waitForTimeout(500); // charts finish their first layout
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    await page.pdf({ path: out, format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
    await served.close();
  }
}
