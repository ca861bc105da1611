// Electron smoke test: the real desktop window, through the preload bridge.
// Machines without the Electron binary (offline installs) skip it and say why.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { _electron } from 'playwright-core';
import { tempDataDir } from './harness';

function electronBinary(): string | null {
  try {
    const bin = require('electron') as unknown;
    return typeof bin === 'string' && fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const bin = electronBinary();
if (!bin) {
  console.log('electron smoke test skipped: the Electron binary is not installed here (ELECTRON_SKIP_BINARY_DOWNLOAD install); the renderer is tested in Chromium through ferry serve instead');
}

describe.skipIf(!bin)('Electron window', () => {
  it('opens the console with a sandboxed renderer that sees only window.ferry', async () => {
    const root = path.resolve(__dirname, '..', '..');
    const app = await _electron.launch({
      executablePath: bin!,
      args: [root],
      env: { ...process.env, FERRY_DATA_DIR: tempDataDir('ferry-electron-') },
    });
    try {
      const win = await app.firstWindow();
      await win.waitForSelector('[data-testid^="host-"]', { timeout: 30_000 });
      const shape = await win.evaluate(() => ({
        ferry: typeof (window as unknown as { ferry?: unknown }).ferry,
        require: typeof (window as unknown as { require?: unknown }).require,
        process: typeof (window as unknown as { process?: unknown }).process,
      }));
      expect(shape).toEqual({ ferry: 'object', require: 'undefined', process: 'undefined' });
    } finally {
      await app.close();
    }
  });
});
