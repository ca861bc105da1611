// Which Ferry a command talks to. A console (Electron, `ferry serve`) that owns the data
// directory is talked to over its local socket, so the command sees the console's one
// datacenter and one queue. Otherwise the command owns the directory itself (its lock)
// for as long as it runs; a second command waits for the first, a bounded time, saying
// who holds it (a read-only one just goes ahead). `ferry serve` claims the directory as a
// console, and is refused beside another console.
import { makeApi, type FerryApi, type Transport } from '../../preload/contract';
import { createApp, type FerryApp, type Speed } from '../app';
import { acquire, claimForConsole, describeOwner, lockWaitMs, stillInUse, tookOverLine, waitingLine, type DataDirLock, type Owner } from '../owner';
import { listenLocalSocket } from '../server/local-socket';
import { connectConsole } from './console-client';

export interface Session {
  /** The in-process app; absent when a console owns the directory. */
  app?: FerryApp;
  api: FerryApi;
  /** The console this command talks to, if any. */
  console: Owner | null;
  /** Rejects if the console goes away while the command runs. */
  lost: Promise<never>;
  close(): Promise<void>;
}

export interface SessionOptions {
  dataDir: string;
  command: string;
  /** A command that changes nothing may run beside another CLI command. */
  readOnly: boolean;
  speed?: Speed;
  /** One line on stderr. */
  say(line: string): void;
}

/** The CLI's transport in-process: straight into the router, through the same validation as IPC. */
function directTransport(app: FerryApp): Transport {
  return {
    invoke: (channel, req) => app.router.dispatch(channel, req),
    subscribe: (event, listener) => app.events.on(event, listener as never),
  };
}

const never = new Promise<never>(() => {});

function localSession(app: FerryApp, release: () => Promise<void>): Session {
  return { app, api: makeApi(directTransport(app)), console: null, lost: never, close: release };
}

/** Only the long-lived console takes over migrations a stopped Ferry left running in QEMU. */
function makeApp(o: SessionOptions, longLived: boolean): FerryApp {
  return createApp({ dataDir: o.dataDir, speed: o.speed, host: 'cli', longLived, onStoreRefused: (e) => o.say(e.message) });
}

/** `ferry serve`: this process becomes the directory's console, with its local socket. */
async function consoleSession(o: SessionOptions): Promise<Session> {
  const lock = await claimForConsole(o.dataDir, 'ferry serve', o.say);
  let app: FerryApp | undefined;
  try {
    app = makeApp(o, true);
    const sock = await listenLocalSocket(app, lock.owner.socket!);
    const a = app;
    return localSession(a, async () => {
      await sock.close();
      await a.close();
      lock.release();
    });
  } catch (e) {
    await app?.close();
    lock.release();
    throw e;
  }
}

export async function openSession(o: SessionOptions): Promise<Session> {
  if (o.command === 'serve') return consoleSession(o);
  const waitMs = lockWaitMs();
  const a = await acquire(o.dataDir, { kind: 'cli', what: `ferry ${o.command}`, socket: null }, {
    waitMs,
    stopAt: (h) => h.kind === 'console' || o.readOnly,
    waiting: (h) => o.say(waitingLine(o.dataDir, h, waitMs)),
    tookOver: (s) => o.say(tookOverLine(o.dataDir, s)),
  });
  if ('lock' in a) return withLock(o, a.lock);
  const h = a.holder;
  if (h.kind === 'console' && h.socket) {
    if (o.speed !== undefined) o.say(`--speed is ignored: the console ${describeOwner(h)} runs this data directory's clock`);
    const conn = await connectConsole(h, 10_000);
    return { api: makeApi(conn.transport), console: h, lost: conn.lost, close: async () => conn.close() };
  }
  // Beside another command, one that changes nothing reads what the store holds.
  if (o.readOnly) {
    const app = makeApp(o, false);
    return localSession(app, () => app.close());
  }
  throw stillInUse(o.dataDir, h, waitMs);
}

/** This command owns the directory until it ends. */
function withLock(o: SessionOptions, lock: DataDirLock): Session {
  let app: FerryApp;
  try {
    app = makeApp(o, false);
  } catch (e) {
    lock.release();
    throw e;
  }
  return localSession(app, async () => {
    try {
      await app.close();
    } finally {
      lock.release();
    }
  });
}
