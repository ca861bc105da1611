// The Events view against `ferry serve`: a migration run from the CLI beside the console pauses
// its VM far beyond a 1 ms downtime limit; the console raises one alarm (nav badge, a toast,
// the alarm in Events with a link to the report), it is acknowledged (the badge goes, the
// acknowledgement is in the log), and the log is searched.
import { describe, expect, it } from 'vitest';
import { runCli, screenshot, serveSmallLab } from './harness';
import { consoleSession } from './console-session';

const session = consoleSession(() => serveSmallLab('5'));

describe('Events view', () => {
  it('shows the alarm of a migration over its downtime limit, acknowledges it, and searches the log', async () => {
    const page = await session.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(session.served.url);
      await page.getByTestId('nav-events').click();
      await page.getByTestId('events-view').waitFor();
      await expect.poll(() => page.getByTestId('alarms-open').textContent()).toBe('none open');
      expect(await page.getByTestId('nav-events-badge').count()).toBe(0);

      // Stop-and-copy pauses the guest for the whole copy (about 1.4 s here): far over 1 ms.
      const cli = await runCli(['migrate', 'small-web', '--to', 'lab-h2', '--strategy', 'stop-and-copy', '--downtime-limit', '1'], { dataDir: session.served.dataDir });
      expect(cli.code, cli.stderr).toBe(0);
      const id = /^(m-\S+)/.exec(cli.stdout)?.[1];
      expect(id).toBeTruthy();

      await expect.poll(() => page.getByTestId('nav-events-badge').textContent()).toBe('1');
      const alarm = page.getByTestId('alarm-downtime-exceeded');
      await expect.poll(() => alarm.textContent()).toMatch(/small-web was paused 1\.\d\d s moving from lab-h1 to lab-h2 \(stop-and-copy\), over its downtime limit of 1 ms/);
      expect(await alarm.locator('.badge').textContent()).toBe('warning');
      expect(await alarm.getByRole('link', { name: 'Open report' }).getAttribute('href')).toBe(`#/report/${id}`);
      // The alarm is a new fact, so it is told; the migration's own (success) toast is there too.
      await page.locator('[data-testid^="toast-alarm-"]').first().waitFor();
      expect(await page.getByTestId('alarms').getByTestId('alarm-downtime-exceeded').count()).toBe(1);
      // The engine's decision is in the log, linking to the same report.
      const engineRow = page.getByTestId('events-row').filter({ hasText: 'migration completed' });
      await expect.poll(() => engineRow.count()).toBe(1);
      expect(await engineRow.textContent()).toContain('small-web lab-h1 → lab-h2, stop-and-copy, paused 1.');
      await screenshot(page, 'events.png');

      await alarm.getByTestId('alarm-ack').click();
      await expect.poll(() => page.getByTestId('nav-events-badge').count()).toBe(0);
      await expect.poll(() => page.getByTestId('alarms-open').textContent()).toBe('none open');
      // The acknowledgement is audited, and the log shows it.
      await expect.poll(() => page.getByTestId('events-row').filter({ hasText: 'alarm-ack' }).count()).toBe(1);

      // Search: only the rows that match stay.
      await page.getByTestId('events-search').fill('sim-load');
      await expect.poll(() => page.getByTestId('events-row').allTextContents()).toEqual([expect.stringContaining('sim-load')]);
      await page.getByTestId('events-search').fill('no-such-thing-anywhere');
      await expect.poll(() => page.getByTestId('events-rows').textContent()).toContain('Nothing matches “no-such-thing-anywhere”.');
      await page.getByTestId('events-search').fill('alarm-ack');
      await expect.poll(() => page.getByTestId('events-row').count()).toBe(1);

      // The acknowledged alarm is kept, with who and when.
      await page.getByRole('button', { name: /Show acknowledged \(1\)/ }).click();
      await expect.poll(() => page.getByTestId('alarm-downtime-exceeded').textContent()).toMatch(/Acknowledged by .+ at \d{4}-/);
      await screenshot(page, 'events-acknowledged.png');
    } finally {
      await page.close();
    }
  });
});
