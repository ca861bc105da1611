// `ferry serve`: the console in a browser. Serves the built renderer and the contract
// over a WebSocket, bound to loopback, guarded by a random token minted at each start.
// The renderer's files hold no data and are served to any local caller; everything with
// data goes through the WebSocket, which needs the token. No cookie carries the token
// (browsers send cookies to every port of 127.0.0.1, so another local server would read
// it); the page keeps it in its tab's sessionStorage and drops it from the address bar.
// No input may end the process: every handler answers or closes, and logs nothing secret.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_CLIENT_MESSAGE, type ServerMessage } from '../../preload/wire';
import type { FerryApp } from '../app';
import { chromiumPrinter } from './print';
import { Peers } from './peers';
import { contentType } from '../content-types';

/** After this many refused tokens, each further refusal waits a second (guessing is slow). */
const FREE_REFUSALS = 10;
const REFUSAL_DELAY_MS = 1000;

export interface ServeOptions {
  port?: number;
  /** Directory of the built renderer (dist/renderer). */
  staticDir: string;
  token?: string;
}

export interface Served {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function sameToken(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Host must be the address we serve (DNS rebinding: a hostile name resolving to 127.0.0.1). */
function hostOk(req: http.IncomingMessage, port: number): boolean {
  const h = (req.headers.host ?? '').toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

function parseUrl(raw: string | undefined): URL | null {
  try {
    return new URL(raw ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

/**
 * How long a browser may keep a file. The build names everything under assets/ by its
 * content (Vite: `boot-CQAJ7-x1.js`), so a changed file has a new name: those are kept for a
 * year without asking again, and Chromium keeps their compiled code beside them, which an
 * opening of the console after the first does not compile again. The page itself names the
 * current files, so it is never kept. Nothing kept holds data: that comes over the WebSocket.
 */
const HASHED = /^\/assets\/[\w.-]+-[\w-]{8}\.[a-z0-9]+$/i;
function cachePolicy(rel: string): string {
  return HASHED.test(rel) ? 'public, max-age=31536000, immutable' : 'no-store';
}

/**
 * The console's built files, kept in memory once read (a few MiB in all): the page's first
 * load asks for a dozen at once, and streamed from disk each took 40-100 ms here. Read
 * again when the file changes (a rebuild while serving).
 */
const built = new Map<string, { mtimeMs: number; size: number; body: Buffer }>();
export function builtFile(file: string, stat: fs.Stats): Buffer {
  const have = built.get(file);
  if (have && have.mtimeMs === stat.mtimeMs && have.size === stat.size) return have.body;
  const body = fs.readFileSync(file);
  built.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, body });
  return body;
}

export async function serve(app: FerryApp, opts: ServeOptions): Promise<Served> {
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const root = path.resolve(opts.staticDir);
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    throw new Error(`the console is not built (${root}/index.html missing): run \`npm run build\``);
  }

  let port = 0;
  let refusals = 0;
  const refuse = (respond: () => void) => {
    refusals++;
    if (refusals > FREE_REFUSALS) setTimeout(respond, REFUSAL_DELAY_MS).unref();
    else respond();
  };

  const server = http.createServer((req, res) => {
    try {
      const url = parseUrl(req.url);
      if (!url || !hostOk(req, port)) {
        res.writeHead(url ? 421 : 400, { 'content-type': 'text/plain; charset=utf-8' }).end(url ? 'wrong Host\n' : 'bad request\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      let rel: string;
      try {
        rel = decodeURIComponent(url.pathname);
      } catch {
        res.writeHead(400).end('bad request\n');
        return;
      }
      if (rel === '/' || rel === '') rel = '/index.html';
      const file = path.resolve(root, '.' + rel);
      // No path traversal: the file must be inside the renderer's build folder.
      const stat = rel.includes('\0') || !file.startsWith(root + path.sep) ? undefined : fs.statSync(file, { throwIfNoEntry: false });
      if (!stat?.isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, {
        'content-type': contentType(file),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cache-control': cachePolicy(rel),
      });
      if (req.method === 'HEAD') res.end();
      else res.end(builtFile(file, stat));
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    try {
      const url = parseUrl(req.url);
      const host = req.headers.host ?? '';
      // Refuse other origins (cross-site WebSocket hijacking), other Host names (DNS
      // rebinding) and requests without the token.
      const originOk = !req.headers.origin || req.headers.origin === `http://${host}`;
      const tokenOk = sameToken(url?.searchParams.get('token'), token);
      if (!url || url.pathname !== '/api' || !hostOk(req, port) || !originOk || !tokenOk) {
        const respond = () => {
          socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
          socket.destroy();
        };
        if (!tokenOk) refuse(respond);
        else respond();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
    } catch {
      socket.destroy();
    }
  });

  const clients = new Set<WebSocket>();
  const peers = new Peers(app);
  wss.on('connection', (ws) => {
    clients.add(ws);
    const peer = peers.add({
      send: (msg: ServerMessage) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
      },
      close: (why) => ws.close(why === 'malformed message' ? 1003 : 1011, why),
    });
    ws.on('close', () => {
      clients.delete(ws);
      peer.remove();
    });
    // An oversized or broken frame: ws reports it here; close that client, nothing else.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data) => void peer.receive(String(data)));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  // This console can print its own reports to PDF (history:pdf) with a headless Chromium.
  const restorePrinter = app.printer.use(chromiumPrinter(url));
  return {
    url,
    port,
    token,
    async close() {
      restorePrinter();
      peers.close();
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
