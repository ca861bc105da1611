// `ferry`: the command line over the same services and the same contract as the console.
// stdout carries results only (JSON with --json); every error is one line on stderr
// and a non-zero exit.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { FerryError } from '../../preload/contract';
import type { Speed } from '../app';
import { defaultDataDir } from '../data-dir';
import { commands, openBrowser } from './commands';
import { runningConsole } from './console-address';
import type { Ctx } from './context';
import { openSession, type Session } from './session';

const USAGE = `ferry: live migration of virtual machines

Usage: ferry <command> [options]

Commands:
  hosts                                  list hosts
  hosts add <uri> [--name <n>] [--peer-uri <uri>] [--nic-mibps <n>] [--rack <r>] [--accept-host-key <SHA256:..>]
                                         add a libvirt host: qemu+ssh://user@host/system, qemu+tls://, qemu+tcp://
  hosts test <uri> [--accept-host-key <SHA256:..>]
                                         what is reachable there, the auth used, libvirt and QEMU versions
  hosts remove <name> | hosts connections
  vms                                    list VMs
  predict <vm> --to <host>               predict a migration and the strategy auto would pick
  migrate <vm> --to <host>               live-migrate and wait for the end
      [--strategy auto|precopy|postcopy|hybrid|stop-and-copy]
      [--downtime-limit <ms>] [--bandwidth <MiB/s>] [--timeout <s>]
  history [--since <ISO>] [--vm <name>] [--host <name>] [--outcome <o>] [--limit <n>] [--csv]
  report <id> [--pdf <out.pdf>]          one migration with its per-round samples, or as a PDF
  evacuate <host|rack>... [--dry-run]   empty hosts: the plan (--dry-run), or run it and wait
      [--at <ISO time>]                  set it for a time instead: the console runs it then
  schedules [cancel <id>]                evacuations set for a time: pending, running, done, missed
  evacuations [pause|resume|cancel <id>] evacuations run; act on a running one
  evacuations report <id> [--csv]        per VM: destination, strategy, predicted and actual pause and time
      [--abort-running]                  with cancel: abort running moves too (default: they finish)
  consolidate [--dry-run]                free as many hosts as possible: hosts freed, watts saved, moves,
      [--headroom <%>] [--watts-per-host <W>]  downtime and time, against the most any plan could free;
                                         without --dry-run it runs as one evacuation and waits
  maintenance enter|leave <host>         hold a host out of placement, or give it back
      [--bring-home [--dry-run]]         with leave: move the VMs its evacuation took away back (or show the plan)
  settings [set <key>=<value>...]        the defaults new work gets: policy.*, limits.*, headroomPct,
                                         scheduleGraceMin, wattsPerHost (null: estimated from host size)
  sim load <file.json> | sim export [--out <file>]
  serve [--port <n>] [--open]            the console in a browser, on 127.0.0.1 (the same port as last time
                                         when it is free)
  open                                   open the running console of this data directory in the browser
  lab up [--hosts <n>] [--vms <n>] [--vm <name:mem=..,wss=..,rate=..>]... [--file <lab.json>]
                                         start a local lab of QEMU guests (driver "qemu")
  lab add-vm <name:mem=..,wss=..,rate=..[,host=..]> | lab status | lab down

Global options:
  --json              machine-readable output on stdout
  --data-dir <dir>    where Ferry keeps its database (default: ${defaultDataDir()}; env FERRY_DATA_DIR)
  --speed <virtual|N> simulated clock: as fast as the CPU allows, or N times real time
`;

/** Commands that never look at hosts, so they do not wait for network hosts to connect. */
const NO_HOSTS_NEEDED = new Set(['history', 'report', 'lab', 'sim', 'serve', 'schedules']);

export function parseSpeed(s: string | undefined): Speed | undefined {
  if (s === undefined) return undefined;
  if (s === 'virtual') return 'virtual';
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new FerryError('bad-request', `--speed must be "virtual" or a positive number, not "${s}"`);
  return n;
}

type Flags = Record<string, string | boolean | string[] | undefined>;

/** Commands that change nothing: they may run beside another command on the same data directory. */
export function readOnlyCommand(name: string, args: string[], flags: Flags): boolean {
  const sub = args[0];
  switch (name) {
    case 'vms':
    case 'predict':
    case 'history':
    case 'report':
      return true;
    case 'hosts':
      return !sub || sub === 'connections' || sub === 'test';
    case 'evacuations':
      return !sub || sub === 'report';
    case 'schedules':
    case 'settings':
      return !sub;
    case 'evacuate':
      return flags['dry-run'] === true && flags.at === undefined;
    case 'maintenance':
    case 'consolidate':
      return flags['dry-run'] === true;
    case 'sim':
      return sub === 'export';
    case 'lab':
      return sub === 'status';
    default:
      return false;
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        csv: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'data-dir': { type: 'string' },
        speed: { type: 'string' },
        to: { type: 'string' },
        strategy: { type: 'string' },
        'downtime-limit': { type: 'string' },
        bandwidth: { type: 'string' },
        timeout: { type: 'string' },
        since: { type: 'string' },
        vm: { type: 'string', multiple: true },
        hosts: { type: 'string' },
        vms: { type: 'string' },
        file: { type: 'string' },
        host: { type: 'string' },
        outcome: { type: 'string' },
        limit: { type: 'string' },
        at: { type: 'string' },
        'dry-run': { type: 'boolean' },
        port: { type: 'string' },
        out: { type: 'string' },
        pdf: { type: 'string' },
        open: { type: 'boolean' },
        name: { type: 'string' },
        'peer-uri': { type: 'string' },
        'nic-mibps': { type: 'string' },
        rack: { type: 'string' },
        'accept-host-key': { type: 'string' },
        'bring-home': { type: 'boolean' },
        'abort-running': { type: 'boolean' },
        headroom: { type: 'string' },
        'watts-per-host': { type: 'string' },
      },
    });
  } catch (e) {
    process.stderr.write(`ferry: ${(e as Error).message}\n`);
    return 2;
  }
  const [name, ...args] = parsed.positionals;
  if (!name || parsed.values.help) {
    process.stdout.write(USAGE);
    return name || parsed.values.help ? 0 : 2;
  }
  // `ferry open` needs no session: it reads where the running console is.
  if (name === 'open') return openConsole(path.resolve(parsed.values['data-dir'] ?? defaultDataDir()), parsed.values.json === true);
  const command = commands[name];
  if (!command) {
    process.stderr.write(`ferry: unknown command "${name}"; \`ferry --help\` lists them\n`);
    return 2;
  }
  let session: Session | undefined;
  // A line said once is not said again (the store tells a refused write, and the command fails with it).
  let lastSaid = '';
  const say = (line: string) => {
    if (line === lastSaid) return;
    lastSaid = line;
    process.stderr.write(`ferry: ${line.split('\n')[0]}\n`);
  };
  try {
    const dataDir = path.resolve(parsed.values['data-dir'] ?? defaultDataDir());
    const readOnly = readOnlyCommand(name, args, parsed.values);
    session = await openSession({ dataDir, command: name, readOnly, speed: parseSpeed(parsed.values.speed), say });
    const { app } = session;
    const ctx: Ctx = {
      app,
      api: session.api,
      dataDir,
      console: session.console,
      args,
      flags: parsed.values,
      json: parsed.values.json === true,
      out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
      staticDir: path.resolve(__dirname, '..', 'renderer'),
    };
    // Hosts reached over the network (libvirt) connect in the background; a command that
    // reads or moves them waits for each host's first attempt (bounded by its timeout).
    if (app && !NO_HOSTS_NEEDED.has(name)) await Promise.all(app.drivers.map((d) => d.ready?.()));
    const code = await Promise.race([command(ctx), session.lost]);
    // A record the disk refused to write is a failure, even if the migration went well.
    return app?.records.failure ? Math.max(code, 1) : code;
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    return e instanceof FerryError && e.code === 'bad-request' ? 2 : 1;
  } finally {
    await session?.close();
  }
}

function openConsole(dataDir: string, asJson: boolean): number {
  const found = runningConsole(dataDir);
  if ('none' in found) {
    process.stderr.write(`ferry: ${found.none}\n`);
    return 1;
  }
  const shown = found.url.replace(/\?token=.*$/, '');
  if (asJson) process.stdout.write(JSON.stringify({ url: shown }) + '\n');
  else process.stdout.write(`opening ${shown} in the browser\n`);
  if (!process.env.FERRY_NO_BROWSER) openBrowser(found.url);
  return 0;
}

/** `ferry history | head`: a reader that stops early is not an error. */
export function quietOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

if (require.main === module) {
  quietOnClosedPipe();
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
