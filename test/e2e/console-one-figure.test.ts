// One figure per migration: the prediction shown on the host card while dragging, the one
// in the dialog after the drop and the one kept in the migration's record are the same
// figures (they stand on one measurement of the VM's dirty rate; main/engine/engine.ts
// `measured`), though the simulated guest's rate moves all the while.
import { describe, expect, it } from 'vitest';
import { dragTo, runCli, startServe } from './harness';
import { consoleSession } from './console-session';
import { formatMs } from '../../common/units';
import type { MigrationRecord } from '../../preload/model';

const session = consoleSession(() => startServe({ speed: '5' }));

describe('one prediction per migration', () => {
  it('shows the same downtime and duration while dragging, in the dialog and in the record', async () => {
    const page = await session.browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(session.served.url);
      await page.getByTestId('host-ams-h01').waitFor();
      // The map is drawn from the first part of the inventory; drag once all of it is in, so the
      // layout does not change under the pointer (on a loaded machine the rest can come mid-drag).
      await expect.poll(() => page.locator('.map-toolbar, body').first().textContent(), { timeout: 20_000 }).not.toContain('loading the rest');
      // Both hosts mid-screen, away from the edges where holding a VM scrolls the map.
      await page.getByTestId('cluster-map').evaluate((el) => {
        const top = (sel: string) => el.querySelector(sel)!.getBoundingClientRect().top - el.getBoundingClientRect().top;
        el.scrollTop += (top('[data-testid="host-ams-h04"]') + top('[data-testid="host-ams-h07"]')) / 2 - el.clientHeight / 3;
      });
      await dragTo(page, 'cache-012', 'ams-h07');
      const verdict = page.getByTestId('verdict-ams-h07');
      await verdict.waitFor();
      const [dragDown, dragTotal] = await verdict.locator('.nums strong').allTextContents();
      const dragText = await verdict.textContent();
      // A couple of seconds of the dirty rate moving before the drop.
      await page.waitForTimeout(2000);
      const still = await page.getByTestId('host-ams-h07').boundingBox();
      if (!still) throw new Error('host left the screen');
      await page.mouse.move(still.x + still.width / 2, still.y + 70, { steps: 2 });
      expect(await verdict.textContent()).toBe(dragText);
      await page.mouse.up();

      const dialog = page.getByRole('dialog', { name: 'Migrate cache-012' });
      await dialog.getByTestId('dialog-prediction').waitFor().catch(async (e: unknown) => {
        const open = await dialog.count();
        const text = open ? await dialog.textContent() : `no dialog; body: ${(await page.locator('body').textContent())?.slice(0, 600)}`;
        await page.screenshot({ path: '/tmp/one-figure-fail.png' });
        throw new Error(`${String(e)}\n${text}`);
      });
      await expect.poll(() => dialog.getByTestId('dialog-status').textContent()).toBe('');
      await expect(dialog.getByTestId('dialog-route').textContent()).resolves.toMatch(/ams-h04.*ams-h07/);
      expect(await dialog.getByTestId('dialog-downtime').textContent()).toBe(dragDown);
      expect(await dialog.getByTestId('dialog-duration').textContent()).toBe(dragTotal);
      await page.waitForTimeout(2000);
      await dialog.getByTestId('dialog-migrate').click();
      await dialog.waitFor({ state: 'detached' });

      const out = await runCli(['history', '--json', '--limit', '5'], { dataDir: session.served.dataDir });
      expect(out.code, out.stderr).toBe(0);
      const rec = (JSON.parse(out.stdout) as MigrationRecord[]).find((r) => r.vm === 'cache-012');
      expect(rec, out.stdout).toBeDefined();
      expect(formatMs(rec!.predicted.downtimeMs)).toBe(dragDown);
      expect(formatMs(rec!.predicted.totalMs)).toBe(dragTotal);
    } finally {
      await page.close();
    }
  });
});
