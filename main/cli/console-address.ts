// Where this data directory's browser console is: `ferry serve` keeps its address (with the
// token) in console.json while it runs, readable by this user only like the rest of the
// data directory, and remembers its port afterwards so the next start takes the same one.
// `ferry open` reads it, so the way back to a running console is one command, not a bookmark
// of an address whose token changes at every start.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { pidAlive } from '../pid';

const FILE = 'console.json';

const addressSchema = z.object({
  port: z.number().int().min(1).max(65535),
  pid: z.number().int().positive().optional(),
  url: z.string().max(200).optional(),
});
type ConsoleAddress = z.infer<typeof addressSchema>;

function read(dataDir: string): ConsoleAddress | null {
  try {
    return addressSchema.parse(JSON.parse(fs.readFileSync(path.join(dataDir, FILE), 'utf8')));
  } catch {
    return null;
  }
}

function write(dataDir: string, a: ConsoleAddress): void {
  const file = path.join(dataDir, FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(a) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The port the last console of this data directory listened on, to take again. */
export function lastPort(dataDir: string): number | null {
  return read(dataDir)?.port ?? null;
}

/** A console now runs here at `url`; forgotten (but its port kept) by `stopped`. */
export function consoleStarted(dataDir: string, port: number, url: string): void {
  write(dataDir, { port, pid: process.pid, url });
}

export function consoleStopped(dataDir: string, port: number): void {
  try {
    write(dataDir, { port });
  } catch {
    /* the data directory went away: nothing to remember */
  }
}

/** The running console's address with its token, or why there is none. */
export function runningConsole(dataDir: string): { url: string } | { none: string } {
  const a = read(dataDir);
  if (!a?.url || !pidAlive(a.pid)) {
    return { none: `no browser console is running on ${dataDir}: start one with \`ferry serve --open\`` };
  }
  return { url: a.url };
}
