// What every `ferry` command is given: the app, the contract API over it, its arguments,
// and where its output goes. Shared by the entry point (ferry.ts) and the commands.
import fs from 'node:fs';
import { FerryError, type FerryApi } from '../../preload/contract';
import type { FerryApp } from '../app';

export interface Ctx {
  app: FerryApp;
  api: FerryApi;
  args: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  out(text: string): void;
  staticDir: string;
}

export function readFileOrFail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new FerryError('bad-request', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
