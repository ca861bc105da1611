// One console and one Chromium for a test file: started before its tests, stopped after them.
// Kept apart from harness.ts, which benchmarks import outside vitest.
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, type Served } from './harness';

export interface ConsoleSession {
  readonly served: Served;
  readonly browser: Browser;
}

/** Registers the file's hooks: `start` runs the console (`ferry serve`), then Chromium is launched. */
export function consoleSession(start: () => Promise<Served>): ConsoleSession {
  let served: Served | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    served = await start();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });
  const need = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new Error(`the test file's ${what} is not started (read outside its tests?)`);
    return x;
  };
  return {
    get served() {
      return need(served, 'console');
    },
    get browser() {
      return need(browser, 'browser');
    },
  };
}
