import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateDatacenter } from '../main/sim/seed';
import { launchBrowser, runCli, startServe } from '../test/e2e/harness';

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-'));
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);
  const dc = generateDatacenter({ clusters: 25, hostsPerCluster: 100, hostsPerRack: 20, vms: 40000, seed: 5 });
  const file = path.join(tmp, 'dc.json');
  fs.writeFileSync(file, JSON.stringify(dc));
  await runCli(['sim', 'load', file, '--json'], { dataDir, timeoutMs: 90_000 });
  const served = await startServe({ dataDir });
  const browser = await launchBrowser();
  for (let run = 0; run < Number(process.env.RUNS ?? 3); run++) {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.addInitScript(() => {
      const log: any[] = ((window as any).__ws = []);
      const Orig = window.WebSocket;
      (window as any).WebSocket = class extends Orig {
        constructor(u: any, p?: any) {
          super(u, p);
          this.addEventListener('message', (ev: MessageEvent) => { const s = String(ev.data); if (s.includes('"inventory:changed"')) log.push(s.length); });
        }
      };
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' } as any);
    await page.goto(served.url + (process.env.HASH ?? ''));
    await page.locator(process.env.WAIT_FOR ?? '[data-testid^="host-"]').first().waitFor({ state: 'visible' });
    await new Promise((r) => setTimeout(r, 3000));
    const get = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m: any) => [m.name, m.value]));
    const m0 = await get();
    const n0 = (await page.evaluate(() => (window as any).__ws.length)) as number;
    await new Promise((r) => setTimeout(r, 20000));
    const m1 = await get();
    const sizes = (await page.evaluate(() => (window as any).__ws)) as number[];
    const n = sizes.length - n0;
    const d = (k: string) => ((m1[k] - m0[k]) * 1000);
    console.log(`run ${run}: ${n} inventory:changed in 20 s (mean ${(sizes.slice(n0).reduce((a, b) => a + b, 0) / Math.max(1, n) / 1024).toFixed(0)} KiB); main thread: task ${d('TaskDuration').toFixed(0)} ms, script ${d('ScriptDuration').toFixed(0)} ms, layout ${d('LayoutDuration').toFixed(0)} ms, style ${d('RecalcStyleDuration').toFixed(0)} ms`);
    await page.close();
  }
  await browser.close();
  await served.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
void main();
