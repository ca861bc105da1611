// History and reports: migrations made with the CLI (virtual clock, so in seconds) show
// up in the console's history with a summary and charts, and each opens as a report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, runCli, screenshotPath, startServe, tempDataDir, type Served } from './harness';

let served: Served;
let browser: Browser;

const RUNS: string[][] = [
  ['migrate', 'web-024', '--to', 'ams-h02'],
  ['migrate', 'cache-003', '--to', 'ams-h03', '--strategy', 'postcopy'],
  ['migrate', 'app-029', '--to', 'ams-h05', '--strategy', 'hybrid'],
  ['migrate', 'web-025', '--to', 'ams-h06', '--strategy', 'stop-and-copy'],
  ['migrate', 'cache-012', '--to', 'ams-h02', '--strategy', 'precopy', '--timeout', '10'],
];

beforeAll(async () => {
  const dataDir = tempDataDir();
  for (const args of RUNS) await runCli([...args, '--speed', 'virtual'], { dataDir, timeoutMs: 60_000 });
  served = await startServe({ dataDir });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

async function open(hash: string, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height } });
  page.setDefaultTimeout(20_000);
  await page.goto(`${served.url}${hash}`);
  return page;
}

describe('history', () => {
  it('lists past migrations with a summary and charts, filters and sorts them', async () => {
    const page = await open('#/history', 1500);
    try {
      const rows = page.locator('[data-testid^="history-row-"]');
      await expect.poll(() => rows.count()).toBe(RUNS.length);
      // The summary arrives on its own request, possibly after the rows.
      await expect.poll(() => page.getByTestId('history-summary').textContent()).toMatch(/Migrations5.*Success rate80\.0 %/);
      await expect.poll(() => page.locator('.chart-panel .recharts-wrapper').count()).toBe(4);
      await page.waitForTimeout(300);
      await page.screenshot({ path: screenshotPath('history.png') });

      await page.getByLabel('Outcome').selectOption('failed');
      await expect.poll(() => rows.count()).toBe(1);
      await expect(rows.first().textContent()).resolves.toMatch(/cache-012.*failed/);
      await page.getByRole('button', { name: 'Reset' }).click();
      await expect.poll(() => rows.count()).toBe(RUNS.length);

      // Export: the filtered rows as CSV, built in the page and downloaded as a file.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
      expect(download.suggestedFilename()).toMatch(/^ferry-history-.*\.csv$/);
      const csv = fs.readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
      expect(csv[0]).toMatch(/^id,queued_at,.*downtime_ms/);
      expect(csv).toHaveLength(RUNS.length + 1);
      // The CLI writes the very same bytes for the same filter (one exporter for both).
      const all = await runCli(['history', '--csv'], { dataDir: served.dataDir });
      expect(all.code, all.stderr).toBe(0);
      expect(all.stdout).toBe(fs.readFileSync((await download.path())!, 'utf8'));
      await page.getByLabel('Outcome').selectOption('failed');
      await expect.poll(() => rows.count()).toBe(1);
      const [failedOnly] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
      const cliFailed = await runCli(['history', '--csv', '--outcome', 'failed'], { dataDir: served.dataDir });
      expect(cliFailed.stdout).toBe(fs.readFileSync((await failedOnly.path())!, 'utf8'));
      expect(cliFailed.stdout.split('\r\n')).toHaveLength(3); // header, one row, the final CRLF
      await page.getByRole('button', { name: 'Reset' }).click();
      await expect.poll(() => rows.count()).toBe(RUNS.length);

      // Downtime, largest first: stop-and-copy pauses the guest for the whole copy.
      await page.getByRole('button', { name: /Downtime/ }).click();
      await expect.poll(() => rows.first().textContent()).toContain('web-025');
    } finally {
      await page.close();
    }
  });

  it('opens a report with timeline, rounds and predicted against actual', async () => {
    const page = await open('#/history', 1800);
    try {
      await page.locator('[data-testid^="history-row-"]', { hasText: 'cache-003' }).click();
      const report = page.getByTestId('report-view');
      await report.waitFor();
      expect(page.url()).toMatch(/#\/report\/m-/);
      await expect(report.locator('h1').textContent()).resolves.toMatch(/cache-003.*completed/);
      await expect(page.getByTestId('report-pva').textContent()).resolves.toMatch(/Downtime.*Duration.*Data sent/);
      expect(await page.getByTestId('report-timeline').locator('li').count()).toBeGreaterThan(1);
      await expect.poll(() => report.locator('.report-chart .recharts-wrapper').count()).toBeGreaterThanOrEqual(2);
      await page.waitForTimeout(300);
      await page.screenshot({ path: screenshotPath('report.png') });
      // Export PDF: printed by the console's host (here ferry serve's headless Chromium).
      const [pdf] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('export-pdf').click()]);
      expect(pdf.suggestedFilename()).toMatch(/^ferry-report-m-.*\.pdf$/);
      const bytes = fs.readFileSync((await pdf.path())!);
      expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
      expect(bytes.length).toBeGreaterThan(10_000);
      // The print stylesheet hides the app's chrome.
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('nav.nav').isVisible()).toBe(false);
      expect(await report.locator('h1').isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });
});
