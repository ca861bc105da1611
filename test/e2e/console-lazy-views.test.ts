// Views other than the map are loaded when first opened (renderer/src/app.tsx). When a view's
// code cannot be fetched (a console left open while Ferry was rebuilt and restarted), the
// main area says so with a Reload button; the rest of the console stays usable.
import { describe, expect, it } from 'vitest';
import { serveSmallLab } from './harness';
import { consoleSession } from './console-session';

const session = consoleSession(() => serveSmallLab('5'));

describe('views loaded on demand', () => {
  it('a view whose code cannot be fetched is said so in the main area; the others still open', async () => {
    const page = await session.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    try {
      await page.route(/\/assets\/history-view-[^/]*\.js$/, (r) => r.fulfill({ status: 404, body: 'not found' }));
      await page.goto(session.served.url);
      await page.locator('.host-card').first().waitFor();
      await page.getByTestId('nav-history').click();
      const alert = page.getByRole('alert').filter({ hasText: 'Could not show this view' });
      await alert.waitFor();
      expect(await alert.getByRole('button', { name: 'Reload' }).count()).toBe(1);
      // The shell is still there, and another view opens.
      await page.getByTestId('nav-map').click();
      await page.locator('.host-card').first().waitFor();
      expect(await alert.count()).toBe(0);
      await page.getByTestId('nav-hosts').click();
      await page.getByRole('heading', { name: 'Hosts' }).first().waitFor();
    } finally {
      await page.close();
    }
  });
});
