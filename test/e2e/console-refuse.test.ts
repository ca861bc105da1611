// A destination without room refuses the drop with its reason in words; several VMs
// selected with ctrl-click move together. A three-host lab loaded with `ferry sim load`.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, serveSmallLab } from './harness';
import { consoleSession } from './console-session';

const session = consoleSession(() => serveSmallLab('5'));

async function openConsole(): Promise<Page> {
  const page = await session.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
  await page.goto(session.served.url);
  await page.getByTestId('vm-big-db').waitFor();
  return page;
}

async function drag(page: Page, from: string, toHost: string, onTarget?: () => Promise<void>) {
  const a = await page.getByTestId(from).boundingBox();
  const b = await page.getByTestId(toHost).boundingBox();
  if (!a || !b) throw new Error('not on screen');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + 30, a.y + 30, { steps: 4 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await onTarget?.();
  await page.mouse.up();
}

describe('drop targets', () => {
  it('refuses a host without enough memory and says why', async () => {
    const page = await openConsole();
    try {
      await drag(page, 'vm-big-db', 'host-lab-h3', async () => {
        await page.locator('[data-testid="host-lab-h3"][data-verdict="red"]').waitFor();
        await expect(page.getByTestId('verdict-lab-h3').textContent()).resolves.toMatch(/needs 16 GiB.*free/);
        expect(await page.getByTestId('host-lab-h2').getAttribute('data-verdict')).toBe('green');
        await screenshot(page, 'drag-refused.png');
      });
      const refused = page.getByTestId('toast-refused');
      await refused.waitFor();
      await expect(refused.textContent()).resolves.toMatch(/lab-h3 cannot take big-db.*needs 16 GiB.*free/);
      expect(await page.getByRole('dialog').count()).toBe(0);
      expect(await page.getByTestId('vm-big-db').evaluate((el) => el.closest('.host-card')?.getAttribute('data-testid'))).toBe('host-lab-h1');
    } finally {
      await page.close();
    }
  });

  it('moves a ctrl-click selection of VMs together', async () => {
    const page = await openConsole();
    try {
      await page.getByTestId('vm-small-web').click();
      await page.getByTestId('vm-big-db').click({ modifiers: ['Control'] });
      await expect(page.getByTestId('selection-count').textContent()).resolves.toBe('2 selected');
      await drag(page, 'vm-small-web', 'host-lab-h2', () => page.getByTestId('drag-ghost').getByText('+1').waitFor().then(() => undefined));
      const dialog = page.getByRole('dialog', { name: 'Migrate 2 VMs' });
      await dialog.waitFor();
      await expect(dialog.getByTestId('dialog-prediction').textContent()).resolves.toMatch(/big-db.*small-web|small-web.*big-db/);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
    } finally {
      await page.close();
    }
  });
});

describe('settings', () => {
  it('lists every registered driver with its hosts health', async () => {
    const page = await openConsole();
    try {
      await page.getByTestId('nav-settings').click();
      const drivers = page.getByTestId('settings-drivers');
      await drivers.locator('[data-driver="sim"]').waitFor();
      // The small lab's three simulated hosts are up; no QEMU lab was started in this data dir.
      await expect(drivers.locator('[data-driver="sim"]').textContent()).resolves.toMatch(/Simulated datacenter.*sim.*ok.*3 simulated hosts, all up/);
      await expect(drivers.locator('[data-driver="qemu"]').textContent()).resolves.toMatch(/QEMU lab.*qemu.*no hosts.*no QEMU lab is up \(ferry lab up\)/);
      await screenshot(page, 'settings.png');
    } finally {
      await page.close();
    }
  });

  it('changes the defaults for new work: a bad figure is named and changes nothing; a good one is saved and used', async () => {
    const page = await openConsole();
    try {
      await page.getByTestId('nav-settings').click();
      const form = page.getByTestId('settings-defaults');
      await expect.poll(() => form.getByLabel('Downtime limit').inputValue()).toBe('300');
      await form.getByLabel('Out of one host').fill('99');
      await form.getByRole('button', { name: 'Save' }).click();
      await expect(form.getByRole('alert').textContent()).resolves.toBe('limits.perHostOut must be at most 16');
      await form.getByLabel('Out of one host').fill('3');
      await form.getByLabel('Downtime limit').fill('450');
      await form.getByRole('button', { name: 'Save' }).click();
      await form.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
      await screenshot(page, 'settings-defaults.png');
      // The migrate dialog of a new drop starts from the new default.
      await page.reload();
      await page.getByTestId('nav-settings').click();
      await expect.poll(() => page.getByTestId('settings-defaults').getByLabel('Downtime limit').inputValue()).toBe('450');
      await expect(page.getByTestId('settings-defaults').getByLabel('Out of one host').inputValue()).resolves.toBe('3');
      // Put it back for the other tests on this console.
      await page.getByTestId('settings-defaults').getByLabel('Downtime limit').fill('300');
      await page.getByTestId('settings-defaults').getByLabel('Out of one host').fill('2');
      await page.getByTestId('settings-defaults').getByRole('button', { name: 'Save' }).click();
      await page.getByTestId('settings-defaults').getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    } finally {
      await page.close();
    }
  });
});
