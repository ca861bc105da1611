// Accessibility: axe-core audits every view of the console against a real `ferry serve` (the
// simulated datacenter), in the light and the dark theme, with each view's data on screen: the
// map, the VMs table with a VM's detail, the migrate dialog, a running migration, History, a
// migration's report, an evacuation's report, Events, Hosts, Maintenance with a consolidation
// plan, and Settings.
// No violation of impact "serious" or "critical" may be left; a failure lists, per view and
// theme, each rule with its count, the first elements and what axe says is wrong with them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { REPORT_READY_SELECTOR } from '../../common/report-ready';
import { dismissToasts, launchBrowser, runCli, screenshot, startServe, tempDataDir, type Served } from './harness';

const AXE = require.resolve('axe-core/axe.min.js');
const THEMES = ['light', 'dark'] as const;
type Theme = (typeof THEMES)[number];

interface AxeNode {
  target: unknown[];
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: AxeNode[];
}

let served: Served;
let browser: Browser;
let page: Page;
let reportId: string;
let evacuationId: string;

beforeAll(async () => {
  // One finished migration for History, the VM's history and the report (virtual clock: instant).
  const dataDir = tempDataDir();
  const run = await runCli(['migrate', 'web-024', '--to', 'ams-h02', '--speed', 'virtual'], { dataDir, timeoutMs: 60_000 });
  if (run.code !== 0) throw new Error(`ferry migrate failed: ${run.stderr}`);
  reportId = /^(m-\S+)/.exec(run.stdout)?.[1] ?? '';
  if (!reportId) throw new Error(`no migration id in: ${run.stdout}`);
  // One finished evacuation for its report page (in the other cluster: the map's views above keep AMS as it is).
  const evac = await runCli(['evacuate', 'fra-h03', '--json', '--speed', 'virtual'], { dataDir, timeoutMs: 60_000 });
  if (evac.code !== 0) throw new Error(`ferry evacuate failed: ${evac.stderr}`);
  evacuationId = (JSON.parse(evac.stdout) as { id: string }).id;
  // Real time: the migration started from the dialog (32 GiB) still runs while Migrations is audited.
  served = await startServe({ dataDir, speed: '1', removeDataDirOnStop: true });
  browser = await launchBrowser();
  // The console's CSP (script-src 'self') refuses the inline script addScriptTag makes of axe:
  // this context alone lets the test's own script in; the page's policy is otherwise the same.
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  page.setDefaultTimeout(30_000);
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

/** Follows the system's colour scheme (no choice stored): the console applies it as data-theme. */
async function useTheme(theme: Theme): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
  await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme);
}

async function go(hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 3)
        .map((n) => `      ${JSON.stringify(n.target)}\n        ${(n.failureSummary ?? '').replace(/\n/g, '\n        ')}`)
        .join('\n');
      return `  ${v.id} (${v.impact}, ${v.nodes.length}×): ${v.help}\n${nodes}`;
    })
    .join('\n');
}

const failures: string[] = [];
const audited: string[] = [];

/** Audits the page as it is now in both themes, with a screenshot of each. */
async function audit(view: string): Promise<void> {
  for (const theme of THEMES) {
    await useTheme(theme);
    if (!(await page.evaluate(() => 'axe' in window))) {
      await page.addScriptTag({ path: AXE });
      // axe reads the colours as computed now: with transitions (the host cards fade their
      // background in 0.12 s) a busy machine could catch one mid-way.
      await page.addStyleTag({ content: '*, *::before, *::after { transition: none !important; animation: none !important; }' });
    }
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
    });
    await screenshot(page, `a11y-${view}-${theme}.png`);
    audited.push(`${view}/${theme}`);
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (bad.length) failures.push(`${view}, ${theme} theme:\n${describeViolations(bad)}`);
  }
}

describe('accessibility (axe-core)', () => {
  it('finds no serious or critical violation on any view, in the light and the dark theme', async () => {
    await page.goto(served.url);

    // The cluster map, its hosts and VM chips.
    await page.getByTestId('host-ams-h01').waitFor();
    await page.getByTestId('vm-cache-003').waitFor();
    await audit('map');

    // The VMs table with a VM selected: its detail and its history with the report link.
    await go('#/vms/web-024');
    await page.getByTestId('vm-detail-host').filter({ hasText: 'ams-h02' }).waitFor();
    await page.locator('[data-testid^="vm-history-row-"]').first().waitFor();
    await audit('vms');

    // The migrate dialog, with its prediction.
    await go('#/vms/db-004');
    await page.getByTestId('vm-detail').locator('h2', { hasText: 'db-004' }).waitFor();
    const dest = (await page.getByTestId('vm-dest').locator('option').allTextContents()).find((o) => o.startsWith('ams-h02:'));
    await page.getByTestId('vm-dest').selectOption({ label: dest! });
    await page.getByTestId('vm-migrate').click();
    const dialog = page.getByRole('dialog', { name: 'Migrate db-004' });
    await dialog.getByTestId('dialog-prediction').waitFor();
    await expect.poll(() => dialog.getByTestId('dialog-migrate').isEnabled()).toBe(true);
    await audit('migrate-dialog');

    // Migrations: the one just started, with its live charts (and the dock).
    await dialog.getByTestId('dialog-migrate').click();
    await dialog.waitFor({ state: 'detached' });
    await go('#/migrations');
    const row = page.locator('[data-testid^="active-m"]').first();
    await row.waitFor();
    await row.locator('.recharts-wrapper').first().waitFor();
    await page.waitForTimeout(1500); // a few progress samples in the charts
    await audit('migrations');
    await row.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('[data-testid^="active-m"]').count(), { timeout: 30_000 }).toBe(0);
    // And with nothing running: the empty state's words and link.
    await page.getByTestId('active-empty').waitFor();
    await audit('migrations-empty');

    // History: the rows, the summary and its charts.
    await go('#/history');
    await expect.poll(() => page.locator('[data-testid^="history-row-"]').count()).toBeGreaterThanOrEqual(1);
    await page.getByTestId('history-summary').waitFor();
    await page.locator('.chart-panel .recharts-wrapper').first().waitFor();
    await audit('history');
    // The toasts (audited with History) would cover the views that follow in their screenshots.
    await dismissToasts(page);

    // A migration's report.
    await go(`#/report/${reportId}`);
    await page.locator(REPORT_READY_SELECTOR).waitFor();
    await audit('report');

    // An evacuation's report: its totals and each VM's move, linked to its migration's report.
    await go(`#/evacuation/${evacuationId}`);
    const evacReport = page.getByTestId('evacuation-report');
    await evacReport.waitFor();
    await evacReport.locator('tbody tr a').first().waitFor();
    await audit('evacuation-report');

    // Events: the log (the data dir's sim-load and the migrations).
    await go('#/events');
    await page.getByTestId('events-view').waitFor();
    await page.getByTestId('events-row').first().waitFor();
    await audit('events');

    // Hosts.
    await go('#/hosts');
    await page.getByTestId('hosts-view').waitFor();
    await page.getByTestId('host-connections').waitFor();
    await audit('hosts');

    // Maintenance, with a consolidation what-if worked out.
    await go('#/maintenance');
    await page.getByTestId('maintenance-view').waitFor();
    const panel = page.getByTestId('consolidation');
    await panel.getByRole('button', { name: 'What if?' }).click();
    await panel.getByTestId('consolidation-plan').waitFor({ timeout: 60_000 });
    await audit('maintenance');

    // Settings: the defaults, the application, the drivers and the hosts.
    await go('#/settings');
    await page.getByTestId('settings-defaults').waitFor();
    await page.getByTestId('settings-drivers').locator('li').first().waitFor();
    await audit('settings');

    expect(audited).toHaveLength(12 * THEMES.length);
    // The count, not the list, is compared: the message already lists every violation once.
    expect(failures.length, `axe-core found serious or critical violations:\n${failures.join('\n')}`).toBe(0);
  });
});
