// Starts `ferry serve` for real (a child process on a temp data dir) and Debian's Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type PageScreenshotOptions } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../../main/server/print';
import type { Inventory } from '../../preload/model';

const root = path.resolve(__dirname, '..', '..');
export const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';
// Every run saves its screenshots under test-results/ (ignored by git) to be looked at;
// FERRY_UPDATE_SCREENSHOTS=1 refreshes the committed ones the README shows.
export const SCREENSHOTS = process.env.FERRY_UPDATE_SCREENSHOTS ? path.join(root, 'screenshots') : path.join(root, 'test-results', 'screenshots');

export interface Served {
  url: string;
  dataDir: string;
  token: string;
  origin: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function tempDataDir(prefix = 'ferry-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs the built CLI; returns exit code, stdout and stderr. */
export function runCli(args: string[], opts: { dataDir: string; timeoutMs?: number; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'ferry.js'), ...args, '--data-dir', opts.dataDir], {
      cwd: root,
      env: { ...process.env, FERRY_DATA_DIR: '', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ferry ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * port: 0 (default) any free one; null: no --port, as a user would start it (the last port again).
 * stop() removes the data directory startServe made, or the caller's with removeDataDirOnStop.
 */
export async function startServe(opts: { speed?: string; dataDir?: string; port?: number | null; removeDataDirOnStop?: boolean } = {}): Promise<Served> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const port = opts.port === null ? [] : ['--port', String(opts.port ?? 0)];
  const args = [path.join(root, 'bin', 'ferry.js'), 'serve', '--json', ...port, '--data-dir', dataDir];
  if (opts.speed) args.push('--speed', opts.speed);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`ferry serve did not start in 30 s: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        const parsed = JSON.parse(out) as { url: string };
        clearTimeout(timer);
        resolve(parsed.url);
      } catch {
        /* wait for the whole JSON object */
      }
    });
    child.on('exit', (code) => reject(new Error(`ferry serve exited with ${code}: ${stderr}`)));
  });
  const u = new URL(url);
  return {
    url,
    dataDir,
    token: u.searchParams.get('token') ?? '',
    origin: u.origin,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      // Its own data directory, or one the caller made for this server alone.
      if (!opts.dataDir || opts.removeDataDirOnStop) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Playwright gives each launch a fresh temporary profile (its own --user-data-dir). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...extraArgs] });
}

/** Chromium with a browser profile kept in `dir` (its cache included), as a user's browser. */
export function launchProfile(dir: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS], viewport });
}

export function screenshotPath(name: string): string {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, name);
}

/**
 * What a screenshot leaves out: the data directory (the header's "Data: ..." and its line in
 * Settings), which in a test is a temporary directory of this machine, meaningless in the
 * README. Left out, not replaced: the page is otherwise as the test sees it.
 */
const SCREENSHOT_STYLE = `[data-testid="app-info"] .path, [data-testid="settings-data-dir"], dt:has(+ [data-testid="settings-data-dir"]) { display: none !important; }`;

/** Saves a screenshot of the page as `name` under SCREENSHOTS (see screenshotPath). */
export async function screenshot(page: Page, name: string, opts: Omit<PageScreenshotOptions, 'path'> = {}): Promise<void> {
  await page.screenshot({ ...opts, path: screenshotPath(name), style: SCREENSHOT_STYLE });
}

/**
 * Closes the toasts, one at a time from the first: a list taken once goes stale as each
 * closes, and a toast may go by itself between the count and the click. `keep`: a test id
 * prefix of toasts to leave open (one the test reads later may arrive meanwhile).
 */
export async function dismissToasts(page: Page, keep?: string): Promise<void> {
  const toasts = page.getByTestId('toasts').locator(keep ? `[data-testid^="toast-"]:not([data-testid^="${keep}"])` : '[data-testid^="toast-"]');
  const dismiss = toasts.getByRole('button', { name: 'Dismiss notification' });
  for (let i = 0; i < 20 && (await dismiss.count()) > 0; i++) await dismiss.first().click({ timeout: 2000 }).catch(() => undefined);
}

/** `ferry serve` on a fresh data dir loaded with a fixture of test/e2e/fixtures (`ferry sim load`). */
export async function serveFixture(name: string, speed: string): Promise<Served> {
  const dataDir = tempDataDir();
  const load = await runCli(['sim', 'load', path.join(__dirname, 'fixtures', name)], { dataDir });
  if (load.code !== 0) throw new Error(`ferry sim load failed: ${load.stderr}`);
  return startServe({ speed, dataDir, removeDataDirOnStop: true });
}

/** The three-host lab: one host too small for big-db. */
export const serveSmallLab = (speed: string) => serveFixture('small-lab.json', speed);

/**
 * Drags VM `vmId`'s chip on the cluster map with the mouse onto host `hostId` (bare ids, as
 * in the inventory) the way a person does: press on the chip, move a little so the drag
 * starts, then over the host card's upper part, where its verdict shows. Returns once the
 * host is coloured with its prediction (data-verdict), the button still held: the caller
 * looks at the map, then drops with `page.mouse.up()`. Both must be on screen.
 */
export async function dragTo(page: Page, vmId: string, hostId: string): Promise<void> {
  const chip = await page.getByTestId(`vm-${vmId}`).boundingBox();
  const target = await page.getByTestId(`host-${hostId}`).boundingBox();
  if (!chip || !target) throw new Error(`${chip ? '' : `VM ${vmId} `}${!chip && !target ? 'and ' : ''}${target ? '' : `host ${hostId} `}not on screen`);
  await page.mouse.move(chip.x + chip.width / 2, chip.y + chip.height / 2);
  await page.mouse.down();
  await page.mouse.move(chip.x + 40, chip.y + 30, { steps: 4 });
  await page.mouse.move(target.x + target.width / 2, target.y + 70, { steps: 8 });
  await page.locator(`[data-testid="host-${hostId}"][data-verdict]`).waitFor();
}

/** The server's inventory, asked over a WebSocket of its own (not through the view's state). */
export function serverInventory(page: Page): Promise<Inventory> {
  return page.evaluate(
    () =>
      new Promise<Inventory>((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(sessionStorage.getItem('ferry-token') ?? '')}`);
        ws.onerror = () => reject(new Error('websocket error'));
        ws.onopen = () => ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'inventory:get', req: {} }));
        ws.onmessage = (ev) => {
          const msg = JSON.parse(String(ev.data)) as { type: string; id?: number; envelope?: { ok: boolean; value: Inventory } };
          if (msg.type !== 'result' || msg.id !== 1) return;
          ws.close();
          if (msg.envelope?.ok) resolve(msg.envelope.value);
          else reject(new Error(JSON.stringify(msg.envelope)));
        };
      }),
  );
}
