// The Maintenance view: pick a host, preview the plan (timeline, order, totals), run it on
// the simulated datacenter, watch it finish, and see the host in maintenance on the map.
import { describe, expect, it } from 'vitest';
import { screenshot, serveFixture, serveSmallLab } from './harness';
import { consoleSession } from './console-session';

const session = consoleSession(() => serveSmallLab('20'));

describe('maintenance view', () => {
  it('previews an evacuation, runs it, and puts the host in maintenance', async () => {
    const page = await session.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(session.served.url);
      await page.getByTestId('nav-maintenance').click();
      const rack = page.locator('[data-rack="lab-r01"]');
      await rack.getByRole('button', { name: /lab-r01/ }).click();
      await page.getByTestId('maint-host-lab-h1').getByRole('checkbox').check();
      await page.getByRole('button', { name: 'Preview plan' }).click();
      const plan = page.getByTestId('maint-plan');
      await plan.waitFor();
      // big-db (16 GiB) only fits on lab-h2; small-web goes wherever there is room.
      await expect(page.locator('.gantt-row[data-vm="big-db"]').textContent()).resolves.toMatch(/big-db → lab-h2/);
      await expect(page.locator('.gantt-row[data-vm="small-web"]').count()).resolves.toBe(1);
      await expect(page.getByTestId('maint-order').textContent()).resolves.toMatch(/Order: .*ends in.*keep 10 % of their memory free/);
      await expect(plan.locator('.stat').first().textContent()).resolves.toMatch(/Moves\s*2/);
      await screenshot(page, 'maintenance-plan.png');

      await page.getByRole('button', { name: 'Evacuate now' }).click();
      await page.getByTestId('evac-completed').waitFor({ timeout: 60_000 });
      await expect(page.getByTestId('evac-completed').textContent()).resolves.toMatch(/lab-h1.*completed.*2 of 2 moved · took \d+(\.\d)? s, predicted \d+(\.\d)? s/);
      // The inventory follows within its change batch.
      await page.getByTestId('maint-host-lab-h1').filter({ hasText: '0 VMs' }).waitFor();
      await expect(page.getByTestId('maint-host-lab-h1').textContent()).resolves.toMatch(/0 VMs.*maintenance.*Leave/);
      expect(await page.getByRole('button', { name: 'Leave maintenance on lab-h1' }).count()).toBe(1);
      await screenshot(page, 'maintenance-done.png');

      await page.getByTestId('nav-map').click();
      await expect(page.getByTestId('host-lab-h1').textContent()).resolves.toMatch(/maintenance/);

      // Leaving maintenance offers to bring the two VMs home, and does.
      await page.getByTestId('nav-maintenance').click();
      await page.locator('[data-rack="lab-r01"]').getByRole('button', { name: /lab-r01/ }).click();
      await page.getByRole('button', { name: 'Leave maintenance on lab-h1' }).click();
      const home = page.getByTestId('maint-home');
      await home.waitFor();
      await expect(home.textContent()).resolves.toMatch(/Bring them home to lab-h1\?.*2 of the VMs/);
      await screenshot(page, 'maintenance-bring-home.png');
      await page.getByTestId('maint-bring-home').click();
      await page.locator('[data-testid="evac-completed"]', { hasText: 'Back to lab-h1' }).waitFor({ timeout: 60_000 });
      await page.getByTestId('maint-host-lab-h1').filter({ hasText: '2 VMs' }).waitFor();
      expect(await page.getByTestId('maint-host-lab-h1').textContent()).not.toMatch(/maintenance/);
    } finally {
      await page.close();
    }
  });

  it('schedules an evacuation, which runs at its time; its report lists each move', async () => {
    const page = await session.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(session.served.url);
      await page.getByTestId('nav-maintenance').click();
      await page.locator('[data-rack="lab-r01"]').getByRole('button', { name: /lab-r01/ }).click();
      await page.getByTestId('maint-host-lab-h3').getByRole('checkbox').check();
      // Four seconds from now, in the browser's local time as the picker takes it.
      const local = await page.evaluate(() => {
        const d = new Date(Date.now() + 4000);
        const p = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
      });
      await page.getByLabel('Evacuation time').fill(local);
      await page.getByTestId('maint-schedule').click();
      const pending = page.getByTestId('schedule-pending');
      await pending.waitFor();
      await expect(pending.textContent()).resolves.toMatch(/lab-h3.*pending.*\d+ moves?,/);
      await screenshot(page, 'maintenance-scheduled.png');
      await page.getByTestId('schedule-done').waitFor({ timeout: 60_000 });
      const evac = page.locator('[data-testid^="evac-"]', { hasText: 'lab-h3' }).first();
      await expect.poll(() => evac.getAttribute('data-testid'), { timeout: 60_000 }).toMatch(/evac-(completed|partial)/);
      await evac.getByTestId('evac-open').click();
      const report = evac.getByTestId('evac-report');
      await report.waitFor();
      await expect.poll(() => report.locator('tbody tr').count()).toBeGreaterThan(0);
      await expect(report.locator('tbody tr').first().textContent()).resolves.toMatch(/lab-h\d.*completed/);
      await screenshot(page, 'maintenance-schedule-report.png');
      // The evacuation's own report: per VM, totals, predicted against actual; CSV to download.
      await evac.getByTestId('evac-report-link').click();
      const full = page.getByTestId('evacuation-report');
      await full.waitFor();
      await expect(full.locator('.stat').first().textContent()).resolves.toMatch(/Moved\s*\d+ of \d+/);
      await expect(full.locator('tbody tr').first().textContent()).resolves.toMatch(/lab-h3.*completed/);
      const [csv] = await Promise.all([page.waitForEvent('download'), full.getByRole('button', { name: 'Export CSV' }).click()]);
      const text = await (await import('node:fs')).promises.readFile((await csv.path())!, 'utf8');
      expect(text.split('\r\n')[0]).toBe('vm,from,to,strategy,outcome,predicted_downtime_ms,downtime_ms,predicted_total_ms,total_ms,reason,migration_ids');
      expect(text).toMatch(/\r\n[^,]+,lab-h3,lab-h\d,\w+,completed,/);
      await screenshot(page, 'evacuation-report.png');
      await full.locator('tbody tr a').first().click();
      await page.getByTestId('report-view').waitFor();
    } finally {
      await page.close();
    }
  });

  it('pauses an evacuation (the queued moves wait), resumes it, and cancels it (the rest stay put)', async () => {
    // Eight 4 GiB VMs at real speed: two move at a time, each a few seconds.
    const own = await serveFixture('eight-vms.json', '1');
    const page = await session.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.on('dialog', (d) => void d.accept());
    try {
      await page.goto(own.url);
      await page.getByTestId('nav-maintenance').click();
      await page.locator('[data-rack="ev-r01"]').getByRole('button', { name: /ev-r01/ }).click();
      await page.getByTestId('maint-host-ev-h1').getByRole('checkbox').check();
      await page.getByRole('button', { name: 'Preview plan' }).click();
      await page.getByTestId('maint-plan').waitFor();
      await page.getByRole('button', { name: 'Evacuate now' }).click();
      const row = page.locator('li.evac', { hasText: 'ev-h1' }).first();
      await row.getByRole('button', { name: 'Pause' }).click();
      await page.getByTestId('evac-paused').waitFor();
      await page.getByText('the queued moves wait until it is resumed, the running ones finish.').first().waitFor();
      await expect(row.getByTestId('evac-time').textContent()).resolves.toMatch(/of 8 moved · paused; the queued moves wait/);
      await expect(row.locator('.evac-log').textContent()).resolves.toMatch(/paused by \S+: 6 queued moves wait, 2 running go on/);
      // The two running finish; the six held stay queued.
      await row.getByTestId('evac-time').filter({ hasText: '2 of 8 moved' }).waitFor({ timeout: 60_000 });
      await screenshot(page, 'maintenance-paused.png');
      await row.getByRole('button', { name: 'Resume' }).click();
      await row.getByTestId('evac-time').filter({ hasText: /to go \(predicted now/ }).waitFor();
      await row.getByRole('button', { name: 'Cancel…' }).click();
      await page.getByTestId('evac-cancelled').waitFor({ timeout: 60_000 });
      const text = (await row.textContent()) ?? '';
      expect(text).toMatch(/cancelled by \S+: 4 queued moves stay put, 2 running finish/);
      expect(text).toMatch(/4 of 8 moved · took/);
      expect(text.match(/the evacuation was cancelled before it moved/g)).toHaveLength(4);
      // Every move has ended: nothing is left counted as active.
      await expect.poll(() => page.getByTestId('nav-migrations').locator('.count').count(), { timeout: 10_000 }).toBe(0);
      await screenshot(page, 'maintenance-cancelled.png');
    } finally {
      await page.close();
      await own.stop();
    }
  });

  it('consolidation what-if: hosts freed against the bound and the optimum, and a bad field said in words', async () => {
    const own = await serveFixture('eight-vms.json', 'virtual');
    const page = await session.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(own.url);
      await page.getByTestId('nav-maintenance').click();
      const panel = page.getByTestId('consolidation');
      await panel.getByLabel('Headroom percent').fill('80');
      await panel.getByRole('button', { name: 'What if?' }).click();
      await expect(panel.getByRole('alert').textContent()).resolves.toMatch(/Headroom: a percentage from 0 to 50/);
      await panel.getByLabel('Headroom percent').fill('10');
      await panel.getByLabel('Watts per host').fill('250');
      await panel.getByRole('button', { name: 'What if?' }).click();
      const plan = panel.getByTestId('consolidation-plan');
      await plan.waitFor();
      // Eight 4 GiB VMs fit on one 128 GiB host: the two empty ones can go, nothing moves.
      await expect(plan.locator('.stat').first().textContent()).resolves.toMatch(/Hosts freed\s*2 of 3/);
      await expect(plan.locator('.stat').nth(1).textContent()).resolves.toMatch(/0\.5 kW/);
      await expect(panel.getByTestId('consolidation-bound').textContent()).resolves.toMatch(/The most any plan could free: 2; the exact optimum: 2 \(solved exactly by HiGHS \(1 cluster, \d+ ms\)\)\. Nothing has to move/);
      await screenshot(page, 'maintenance-consolidation.png');
    } finally {
      await page.close();
      await own.stop();
    }
  });
});
