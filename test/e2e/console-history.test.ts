// History and reports: migrations made with the CLI (virtual clock, so in seconds) show
// up in the console's history with a summary and charts, and each opens as a report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, runCli, screenshot, startServe, tempDataDir, type Served } from './harness';
import { Store } from '../../main/store/store';
import { SUMMARY_LIMITS } from '../../main/store/stats';
import { record } from '../unit/store.test-record';

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
  served = await startServe({ dataDir, removeDataDirOnStop: true });
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
      await expect.poll(() => page.locator('.chart-panel .recharts-wrapper').count()).toBe(5);
      // The prediction's error over time, per day, with its axis in percent.
      const err = page.locator('.chart-panel', { hasText: 'Prediction error per day' });
      await expect.poll(async () => (await err.locator('.recharts-cartesian-axis-tick-value').allTextContents()).some((t) => / %$/.test(t))).toBe(true);
      await page.waitForTimeout(300);
      await screenshot(page, 'history.png');
      // Five migrations: exact percentiles, no "≈" and no tooltip saying approximate.
      await expect(page.getByTestId('history-summary').textContent()).resolves.not.toContain('≈');
      expect(await page.locator('[data-approximate]').count()).toBe(0);
      // The downtime histogram: one x label under each bar, none skipped.
      const histogram = page.locator('.chart-panel', { hasText: 'Downtime distribution' });
      const ticks = (await histogram.locator('.recharts-cartesian-axis-tick-value').allTextContents()).filter((t) => /^[≤>]/.test(t));
      expect(ticks).toEqual(['≤ 10 ms', '≤ 25 ms', '≤ 50 ms', '≤ 100 ms', '≤ 200 ms', '≤ 300 ms', '≤ 500 ms', '≤ 1.0 s', '≤ 2.0 s', '≤ 5.0 s', '≤ 10 s', '> 10 s']);
      // Predicted against actual says which axis is which.
      const pva = page.locator('.chart-panel', { hasText: 'Predicted vs actual' });
      await expect(pva.locator('.recharts-label').allTextContents()).resolves.toEqual(['Predicted', 'Actual']);

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
      await screenshot(page, 'report.png');
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

describe('reports of records that did not go as usual', () => {
  let dir: Served;
  const queuedText = 'queued: pre-copy converges in 3 rounds (4.10 s, pause ~40 ms, limit 300 ms)';
  beforeAll(async () => {
    const dataDir = tempDataDir();
    const store = Store.open(dataDir);
    // Cancelled while setting up: one sample, taken at the start.
    store.insertMigration(record('m-cancelled', {
      vm: 'app-008', from: 'ams-h07', outcome: 'cancelled', reason: 'cancelled by root; app-008 stays on ams-h07', phase: 'done',
      downtimeMs: null, totalMs: 0, bytes: 0, rounds: 0,
      events: [{ t: 0, text: queuedText }, { t: 0, text: 'cancelled: cancelled by root; app-008 stays on ams-h07' }],
    }));
    store.addRound('m-cancelled', { round: 0, t: 0, phase: 'precopy', remainingBytes: 4e9, transferredBytes: 0, dirtyMiBps: 50, bandwidthMiBps: 1192, expectedDowntimeMs: 3000, throttlePct: 0 });
    // Post-copy as QEMU counts it: the pass before the switch is not a counted round.
    store.insertMigration(record('m-post', {
      strategy: 'postcopy', requestedStrategy: 'postcopy', rounds: 0, postcopyFaults: 1200, bytes: 10 * 2 ** 30,
      predicted: { converges: true, downtimeMs: 5, totalMs: 9000, bytes: 10 * 2 ** 30, rounds: 1 },
    }));
    store.close();
    dir = await startServe({ dataDir, removeDataDirOnStop: true });
  });
  afterAll(async () => {
    await dir?.stop();
  });

  it('keeps the strategy reason for a cancelled migration, shows the cancel as the outcome, and no empty chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
    try {
      await page.goto(`${dir.url}#/report/m-cancelled`);
      await page.getByTestId('report-view').waitFor();
      await expect(page.getByTestId('report-why').textContent()).resolves.toBe(`Why this strategy: ${queuedText.slice('queued: '.length)}`);
      await expect(page.getByTestId('report-outcome').textContent()).resolves.toBe('Outcome: cancelled by root; app-008 stays on ams-h07');
      await expect(page.getByTestId('report-no-samples').textContent()).resolves.toBe('No samples: it ended before the first pass.');
      expect(await page.locator('.report-chart .recharts-wrapper').count()).toBe(0);
      await screenshot(page, 'report-cancelled.png');

      await page.goto(`${dir.url}#/report/m-post`);
      await expect.poll(() => page.getByTestId('report-pva').textContent()).toMatch(/Rounds1 pre-copy round \+ 1 post-copy pass1 post-copy pass/);
      await expect(page.locator('.report-cards').textContent()).resolves.toContain('Roundspost-copypredicted 1 + post-copy');
    } finally {
      await page.close();
    }
  });
});

describe('history beyond the exact limit', () => {
  let big: Served;
  beforeAll(async () => {
    const dataDir = tempDataDir();
    const store = Store.open(dataDir);
    // One more than the rows a summary reads exactly: the rollups answer, approximately.
    store.bulk(() => {
      for (let i = 0; i <= SUMMARY_LIMITS.exactUpTo; i++) {
        store.insertMigration(record(`m-${i}`, { downtimeMs: 20 + (i % 500), queuedAt: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString() }));
      }
    });
    store.rebuildRollups();
    store.close();
    big = await startServe({ dataDir, removeDataDirOnStop: true });
  });
  afterAll(async () => {
    await big?.stop();
  });

  it('marks rollup percentiles approximate, with the resolution in a tooltip', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await page.goto(`${big.url}#/history`);
      const cards = page.getByTestId('history-summary');
      await expect.poll(() => cards.textContent(), { timeout: 20_000 }).toMatch(/Migrations20,001/);
      await expect(cards.textContent()).resolves.toMatch(/Downtime p50≈ \d+ ms.*Downtime p95≈ \d+ ms.*Downtime p99≈ \d+ ms/);
      const approx = page.locator('[data-approximate]');
      expect(await approx.count()).toBe(3);
      await expect(approx.first().getAttribute('title')).resolves.toMatch(/within ±5 %/);
      await screenshot(page, 'history-approximate.png', { clip: { x: 0, y: 0, width: 1440, height: 320 } });
    } finally {
      await page.close();
    }
  });
});
