// The cluster map loads the inventory in two parts (renderer/src/state/inventory.ts): the
// first screen's hosts, then the rest, with the changes that came meanwhile applied on top. When the rest fails, the map keeps the first part on
// screen, the toolbar says how much of it is there and why the rest is not, and Retry
// fetches it again. The failure is made in the page's WebSocket (Playwright routes it and
// answers the second inventory:part itself, as the transport does when the connection drops).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { launchBrowser, runCli, serverInventory, startServe, tempDataDir, type Served } from './harness';
import type { ClientMessage, ServerMessage } from '../../preload/wire';
import { formatRate } from '../../common/units';

// More hosts than the first part asks for (FIRST_SCREEN_HOSTS, 120).
const HOSTS = 130;
let served: Served;
let browser: Browser;

beforeAll(async () => {
  const dataDir = tempDataDir();
  const file = path.join(dataDir, 'parts.json');
  const id = (i: number) => `par-h${String(i + 1).padStart(3, '0')}`;
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'e2e: more hosts than the first part',
      clock: 1,
      clusters: [{ id: 'par', name: 'PAR parts' }],
      hosts: Array.from({ length: HOSTS }, (_, i) => ({
        id: id(i),
        cluster: 'par',
        rack: `par-r${String(Math.floor(i / 10) + 1).padStart(2, '0')}`,
        cores: 32,
        memoryMiB: 131072,
        nicMiBps: 1192,
      })),
      vms: Array.from({ length: HOSTS }, (_, i) => ({ id: `vm-${i + 1}`, host: id(i), memoryMiB: 4096, vcpus: 2, wssMiB: 256, dirtyMiBps: 10 })),
    }),
  );
  const load = await runCli(['sim', 'load', file], { dataDir });
  if (load.code !== 0) throw new Error(`ferry sim load failed: ${load.stderr}`);
  served = await startServe({ speed: '1', dataDir });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (served) {
    await served.stop();
    fs.rmSync(served.dataDir, { recursive: true, force: true });
  }
});

/**
 * Routes the page's WebSocket through the test: records each inventory:part it asks for
 * (`asked`: from, and the request's id), and hands every server message to `fromServer`, which
 * passes it on to the page with `toPage`, now, later or not at all (default: now). `sockets`:
 * the page's side of each connection, to close.
 */
async function routeApi(
  page: Page,
  fromServer: (msg: ServerMessage, raw: string, toPage: (raw: string) => void) => void = (_msg, raw, toPage) => toPage(raw),
): Promise<{ asked: Array<{ from: number; id: number }>; sockets: WebSocketRoute[] }> {
  const asked: Array<{ from: number; id: number }> = [];
  const sockets: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/api\?/, (ws) => {
    sockets.push(ws);
    const server = ws.connectToServer();
    ws.onMessage((raw) => {
      const msg = JSON.parse(String(raw)) as ClientMessage;
      if (msg.type === 'invoke' && msg.channel === 'inventory:part') asked.push({ from: (msg.req as { from: number }).from, id: msg.id });
      server.send(raw);
    });
    server.onMessage((raw) => fromServer(JSON.parse(String(raw)) as ServerMessage, String(raw), (r) => ws.send(r)));
  });
  return { asked, sockets };
}

/**
 * After its first read (parts from 0 and 120), the console read the inventory once more from
 * its start, shows all of it, and says nothing is wrong.
 */
async function expectReadAgain(page: Page, asked: Array<{ from: number }>): Promise<void> {
  await expect.poll(() => asked.length, { timeout: 15_000 }).toBe(3);
  expect(asked[2]!.from).toBe(0);
  await expect.poll(() => page.locator('.map-count').textContent()).toBe('130 hosts · 130 VMs');
  expect(await page.locator('.notice.bad').count()).toBe(0);
}

describe('cluster map, inventory in parts', () => {
  it('says the rest failed to load, keeps the first part, and Retry loads the rest', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(20_000);
    let failRest = true;
    let refused = 0;
    await page.routeWebSocket(/\/api\?/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((raw) => {
        const msg = JSON.parse(String(raw)) as ClientMessage;
        const req = msg.req as { from?: number } | null;
        if (failRest && msg.type === 'invoke' && msg.channel === 'inventory:part' && (req?.from ?? 0) > 0) {
          refused++;
          const answer: ServerMessage = { type: 'result', id: msg.id, envelope: { ok: false, error: { code: 'unavailable', message: 'connection to the Ferry server closed' } } };
          ws.send(JSON.stringify(answer));
        } else server.send(raw);
      });
    });
    try {
      await page.goto(served.url);
      await page.getByTestId('host-par-h001').waitFor();
      const partial = page.getByTestId('map-partial');
      await partial.waitFor();
      expect(refused).toBe(1);
      await expect(partial.textContent()).resolves.toBe('Only the first 120 of 130 hosts loaded: connection to the Ferry server closed. Retry');
      // What arrived stays on the map.
      expect(await page.getByTestId('host-par-h001').count()).toBe(1);
      expect(await page.locator('.notice.bad').count()).toBe(0);

      failRest = false;
      await partial.getByRole('button', { name: 'Retry' }).click();
      await expect.poll(() => page.locator('.map-count').textContent()).toBe('130 hosts · 130 VMs');
      expect(await partial.count()).toBe(0);
      // The last host, in the part that failed before, is on the map now.
      await page.getByLabel('Search VMs and hosts').fill('par-h130');
      await page.getByRole('button', { name: /Next/ }).click();
      await page.getByTestId('host-par-h130').waitFor();
    } finally {
      await page.close();
    }
  });

  it('applies the changes that came while it read the parts, once, and then shows the server\'s figures', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(20_000);
    // The rest's answer is held back until two change events (figures measured again: one a
    // second) have reached the page, so they come while the inventory is being read.
    let heldRest: string | null = null;
    let released = false;
    let changesWhileHeld = 0;
    const { asked } = await routeApi(page, (msg, raw, toPage) => {
      const restId = asked.find((a) => a.from > 0)?.id;
      if (!released && msg.type === 'result' && msg.id === restId && heldRest === null) {
        heldRest = raw;
        return;
      }
      toPage(raw);
      if (msg.type === 'event' && msg.event === 'inventory:changed' && heldRest !== null) {
        changesWhileHeld++;
        if (changesWhileHeld >= 2) {
          toPage(heldRest);
          heldRest = null;
          released = true;
        }
      }
    });
    try {
      await page.goto(`${served.url}#/vms`);
      await expect.poll(() => page.getByTestId('vms-count').textContent(), { timeout: 20_000 }).toBe('130 VMs');
      expect(changesWhileHeld).toBeGreaterThanOrEqual(2);
      // The parts were joined with the changes on top: not read again.
      expect(asked.map((a) => a.from)).toEqual([0, 120]);
      // The rows show what the server has at the same version (it moves on every second:
      // asked until the two agree on the version).
      const table = page.getByTestId('vms-table');
      let compared = 0;
      for (let attempt = 0; attempt < 40 && !compared; attempt++) {
        const before = await table.getAttribute('data-inventory-version');
        const inv = await serverInventory(page);
        const rows = await page.$$eval('[data-testid^="vm-row-"]', (els) =>
          els.map((r) => ({ id: r.getAttribute('data-testid')!.slice('vm-row-'.length), cells: [...r.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent ?? '') })),
        );
        const after = await table.getAttribute('data-inventory-version');
        if (before !== after || String(inv.version) !== after) {
          await new Promise((r) => setTimeout(r, 150));
          continue;
        }
        const byId = new Map(inv.vms.map((v) => [v.id, v]));
        for (const r of rows) {
          const vm = byId.get(r.id)!;
          // Columns: name, host, cluster, state, memory, vCPUs, dirty rate, working set, CPU.
          expect([r.cells[6], r.cells[8]], r.id).toEqual([formatRate(vm.workload.dirtyMiBps), `${Math.round(vm.cpuPct)} %`]);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(20);
    } finally {
      await page.close();
    }
  });

  it('reads the inventory again when a change event never reached it (the next one follows a version it does not have)', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(20_000);
    let drop = false;
    let passed = 0;
    let dropped: { version: number; since: number } | null = null;
    let after: { version: number; since: number } | null = null;
    const { asked } = await routeApi(page, (msg, raw, toPage) => {
      if (msg.type === 'event' && msg.event === 'inventory:changed') {
        const p = msg.payload as { version: number; since: number };
        // The first event after the read may hold nothing newer than the read's answer (its
        // version may be the answer's): let it through, and lose the next, which holds
        // changes the page has not seen.
        if (drop && !dropped && passed++ >= 1) {
          dropped = p; // lost on its way, on a connection that stays open
          return;
        }
        if (dropped && !after) after = p;
      }
      toPage(raw);
    });
    try {
      await page.goto(served.url);
      await expect.poll(() => page.locator('.map-count').textContent()).toBe('130 hosts · 130 VMs');
      expect(asked.map((a) => a.from)).toEqual([0, 120]);
      drop = true;
      await expect.poll(() => after !== null, { timeout: 15_000 }).toBe(true);
      expect(after!.since).toBe(dropped!.version);
      // The console notices the gap and reads the whole inventory again.
      await expectReadAgain(page, asked);
    } finally {
      await page.close();
    }
  });

  it('reads the inventory again when its connection comes back (what was pushed meanwhile is lost)', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(20_000);
    const { asked, sockets } = await routeApi(page);
    try {
      await page.goto(served.url);
      await expect.poll(() => page.locator('.map-count').textContent()).toBe('130 hosts · 130 VMs');
      expect(asked.map((a) => a.from)).toEqual([0, 120]);
      // The connection drops; the console opens it again and reads the whole inventory.
      await sockets[0]!.close();
      await expectReadAgain(page, asked);
    } finally {
      await page.close();
    }
  });
});
