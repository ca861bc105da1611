// `ferry serve`: the console in a browser. Serves the built renderer and the contract
// over a WebSocket, bound to loopback, guarded by a random token minted at each start.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { EVENT_NAMES } from '../../preload/contract';
import { MAX_CLIENT_MESSAGE, type ClientMessage, type ServerMessage } from '../../preload/wire';
import type { FerryApp } from '../app';
import { chromiumPrinter } from './print';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const COOKIE = 'ferry_token';

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

function cookieToken(req: http.IncomingMessage): string | null {
  const m = /(?:^|;\s*)ferry_token=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
  return m?.[1] ?? null;
}

export async function serve(app: FerryApp, opts: ServeOptions): Promise<Served> {
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const root = path.resolve(opts.staticDir);
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    throw new Error(`the console is not built (${root}/index.html missing): run \`npm run build\``);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const authorised = sameToken(url.searchParams.get('token'), token) || sameToken(cookieToken(req), token);
    if (!authorised) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Ferry: this address needs the token that `ferry serve` printed when it started.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(root, '.' + rel);
    // No path traversal: the file must be inside the renderer's build folder.
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      // The page keeps working after its URL loses the token (reloads, asset requests).
      'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const host = req.headers.host ?? '';
    // Refuse other origins (cross-site WebSocket hijacking) and requests without the token.
    const originOk = !req.headers.origin || req.headers.origin === `http://${host}`;
    const tokenOk = sameToken(url.searchParams.get('token'), token) || sameToken(cookieToken(req), token);
    if (url.pathname !== '/api' || !originOk || !tokenOk) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });

  const clients = new Set<WebSocket>();
  const send = (ws: WebSocket, msg: ServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  wss.on('connection', (ws) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('message', async (data) => {
      let msg: ClientMessage;
      try {
        msg = JSON.parse(String(data)) as ClientMessage;
        if (msg?.type !== 'invoke' || typeof msg.id !== 'number') throw new Error('not an invoke message');
      } catch {
        ws.close(1003, 'malformed message');
        return;
      }
      send(ws, { type: 'result', id: msg.id, envelope: await app.router.dispatch(msg.channel, msg.req) });
    });
  });
  const unsubscribe = EVENT_NAMES.map((event) =>
    app.events.on(event, (payload) => {
      for (const ws of clients) send(ws, { type: 'event', event, payload });
    }),
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  // This console can print its own reports to PDF (history:pdf) with a headless Chromium.
  const restorePrinter = app.printer.use(chromiumPrinter(url));
  return {
    url,
    port,
    token,
    async close() {
      restorePrinter();
      unsubscribe.forEach((u) => u());
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
