// The Hosts view: adding a libvirt host by URI from the console. A URI that is not one is
// refused with what to write instead; a host where nothing listens is tested and said to
// be unreachable, and cannot be added; nothing is stored for either. (Adding reachable
// hosts over SSH and TCP runs against real libvirt daemons in test/integration/libvirt.test.ts.)
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { screenshot, serveSmallLab } from './harness';
import { consoleSession } from './console-session';

const session = consoleSession(() => serveSmallLab('5'));

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('Hosts view', () => {
  it('refuses a bad URI and an unreachable host with reasons, and stores nothing', async () => {
    const page = await session.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(session.served.url);
      await page.getByTestId('nav-hosts').click();
      await page.getByTestId('hosts-view').waitFor();
      // The first list arrives a moment after the view (it says "Loading…" until then).
      await expect.poll(() => page.getByTestId('host-connections').textContent()).toContain('No hosts added by URI yet');

      await page.getByLabel('Host URI').fill('kvm-07');
      await page.getByTestId('host-test').click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/is not a libvirt URI; write it as qemu\+ssh:\/\/user@host\/system/);

      await page.getByLabel('Host URI').fill('qemu+ssh://root:secret@kvm-07/system');
      await page.getByTestId('host-test').click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/does not take passwords/);

      const port = await closedPort();
      await page.getByLabel('Host URI').fill(`qemu+tcp://127.0.0.1:${port}/system`);
      await page.getByTestId('host-test').click();
      await expect.poll(() => page.getByTestId('host-test-error').textContent()).toMatch(/refused the connection: libvirtd is not listening there/);
      expect(await page.getByTestId('host-add').isDisabled()).toBe(true);
      await screenshot(page, 'hosts-view.png');
      expect(fs.existsSync(path.join(session.served.dataDir, 'libvirt-hosts.json'))).toBe(false);
    } finally {
      await page.close();
    }
  });
});
