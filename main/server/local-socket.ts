// A console's local socket: the CLI run beside a console talks to it here, through the
// same contract and the same messages as `ferry serve`'s WebSocket (preload/wire.ts), one
// JSON message per line. Only the user can open it: a unix socket of mode 0600 in the
// data directory (mode 0700); on Windows a named pipe derived from the data directory.
import net from 'node:net';
import fs from 'node:fs';
import { MAX_CLIENT_MESSAGE, type ServerMessage } from '../../preload/wire';
import type { EventBus } from '../events';
import type { Router } from '../router';
import { Peers } from './peers';

export interface LocalSocket {
  path: string;
  close(): Promise<void>;
}

/** Splits a byte stream into lines; more than `max` bytes without a newline ends it. */
export function lineReader(max: number, onLine: (line: string) => void, onTooLong: () => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
    if (buf.length > max) {
      buf = '';
      onTooLong();
    }
  };
}

export async function listenLocalSocket(app: { router: Router; events: EventBus }, socketPath: string): Promise<LocalSocket> {
  const unix = process.platform !== 'win32';
  // The caller owns the data directory (its lock): a socket file left here is a dead console's.
  if (unix) fs.rmSync(socketPath, { force: true });
  const peers = new Peers(app);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    const peer = peers.add({
      send: (msg: ServerMessage) => {
        if (sock.writable) sock.write(JSON.stringify(msg) + '\n');
      },
      close: () => sock.destroy(),
    });
    sock.on('data', lineReader(MAX_CLIENT_MESSAGE, (line) => void peer.receive(line), () => sock.destroy()));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      sockets.delete(sock);
      peer.remove();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Created 0600 from the start (no moment where another user could connect).
    const umask = unix ? process.umask(0o177) : 0;
    try {
      server.listen(socketPath, () => resolve());
    } finally {
      if (unix) process.umask(umask);
    }
  });
  if (unix) fs.chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    async close() {
      peers.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (unix) fs.rmSync(socketPath, { force: true });
    },
  };
}
