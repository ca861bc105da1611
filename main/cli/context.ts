// What every `ferry` command is given: the contract API (in-process, or the console's
// that owns the data directory), the app when in-process, its arguments, and where its
// output goes. Shared by the entry point (ferry.ts) and the commands.
import fs from 'node:fs';
import { FerryError, type FerryApi } from '../../preload/contract';
import type { FerryApp } from '../app';
import { describeOwner, type Owner } from '../owner';

export interface Ctx {
  /** The in-process app: absent while a console owns the data directory (see localApp). */
  app?: FerryApp;
  api: FerryApi;
  dataDir: string;
  /** The console that owns the data directory, which `api` talks to; null in-process. */
  console: Owner | null;
  args: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  out(text: string): void;
  staticDir: string;
}

/** The in-process app, for a command the contract does not cover; refused beside a console. */
export function localApp(ctx: Ctx, what: string): FerryApp {
  if (ctx.app) return ctx.app;
  const owner = ctx.console ? `the Ferry console ${describeOwner(ctx.console)}` : 'a Ferry console';
  throw new FerryError('conflict', `${what} needs the data directory to itself, and ${owner} has it open: close the console, then retry`);
}

export function readFileOrFail(file: string, maxBytes = Infinity): string {
  try {
    const size = fs.statSync(file).size;
    if (size > maxBytes) throw new FerryError('bad-request', `${file}: ${size} bytes is larger than the cap of ${maxBytes} bytes`);
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof FerryError) throw e;
    throw new FerryError('bad-request', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
