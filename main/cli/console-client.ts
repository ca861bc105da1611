// The CLI's transport while a console owns the data directory: its local socket, the
// contract's messages one per line (the console's side is main/server/local-socket.ts).
// Every answer and event comes from the console's one datacenter and one queue.
import net from 'node:net';
import { FerryError, type Channel, type Envelope, type EventName, type Transport } from '../../preload/contract';
import type { ClientMessage, ServerMessage } from '../../preload/wire';
import { lineReader } from '../server/local-socket';
import type { Owner } from '../owner';

/** Answers can be large (a history page, a PDF); more than this in one line is broken. */
const MAX_SERVER_MESSAGE = 256 * 1024 * 1024;

export interface ConsoleConnection {
  transport: Transport;
  /** Rejects when the console closes the connection. */
  lost: Promise<never>;
  close(): void;
}

function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/**
 * Connects to the console's socket, retrying for `waitMs` while the console starts (it
 * names its socket in the lock before it listens).
 */
export async function connectConsole(owner: Owner, waitMs: number): Promise<ConsoleConnection> {
  const deadline = Date.now() + waitMs;
  let sock: net.Socket | undefined;
  for (;;) {
    try {
      sock = await connect(owner.socket!);
      break;
    } catch (e) {
      if (Date.now() >= deadline) {
        throw new FerryError('unavailable', `the Ferry console ${owner.what} (pid ${owner.pid}) owns this data directory but does not answer on ${owner.socket} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); retry, or close it`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return overSocket(sock, owner);
}

function overSocket(sock: net.Socket, owner: Owner): ConsoleConnection {
  let nextId = 1;
  const pending = new Map<number, (env: Envelope<unknown>) => void>();
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  let closed: string | null = null;
  let lose: (e: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => (lose = reject));
  lost.catch(() => undefined); // only a command that waits on it reports it
  const fail = (why: string) => {
    if (closed) return;
    closed = why;
    lose(new FerryError('unavailable', why));
    for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'unavailable', message: why } });
    pending.clear();
  };
  sock.on(
    'data',
    lineReader(MAX_SERVER_MESSAGE, (line) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(line) as ServerMessage;
      } catch {
        return;
      }
      if (msg.type === 'result') {
        pending.get(msg.id)?.(msg.envelope);
        pending.delete(msg.id);
      } else if (msg.type === 'event') listeners.get(msg.event)?.forEach((l) => l(msg.payload));
    }, () => sock.destroy()),
  );
  sock.on('error', () => undefined);
  sock.on('close', () => fail(`the Ferry console (pid ${owner.pid}) closed the connection`));
  // An idle CLI (waiting for a migration to end) must not keep a dead console's socket open forever.
  sock.setKeepAlive(true);
  return {
    lost,
    transport: {
      invoke(channel: Channel, req: unknown) {
        if (closed) return Promise.resolve({ ok: false, error: { code: 'unavailable', message: closed } });
        const id = nextId++;
        const msg: ClientMessage = { type: 'invoke', id, channel, req };
        return new Promise((resolve) => {
          pending.set(id, resolve);
          sock.write(JSON.stringify(msg) + '\n');
        });
      },
      subscribe(event, listener) {
        let set = listeners.get(event);
        if (!set) listeners.set(event, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      },
    },
    close: () => {
      fail('closed');
      sock.end();
      sock.destroy();
    },
  };
}
