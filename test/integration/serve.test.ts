// `ferry serve` security: loopback only, the token required for everything with data (the
// WebSocket), no cookie carrying it, Host and Origin checked, no traversal, and no input,
// before or after authentication, that ends the process.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import WebSocket from 'ws';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, startServe, tempDataDir, type Served } from '../e2e/harness';

function wsOpen(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** Sends raw bytes to the server and returns what it answered (or '' when it just closed). */
function raw(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(s.port, '127.0.0.1');
    let out = '';
    const done = () => resolve(out);
    c.setTimeout(3000, () => c.destroy());
    c.on('data', (d) => (out += d.toString('latin1')));
    c.on('close', done);
    c.on('error', () => undefined);
    c.on('connect', () => c.end(bytes));
  });
}

let s: Served & { port: number };

describe('ferry serve', () => {
  beforeAll(async () => {
    const served = await startServe();
    s = { ...served, port: Number(new URL(served.url).port), stop: served.stop };
  });
  afterAll(() => s.stop());

  it('binds to 127.0.0.1; the page holds no data and sets no cookie; a foreign Host is refused', async () => {
    expect(new URL(s.url).hostname).toBe('127.0.0.1');
    const ok = await fetch(s.url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<div id="root">');
    expect(ok.headers.get('set-cookie'), 'browsers send cookies to every local port').toBeNull();
    // DNS rebinding: a hostile name that resolves to 127.0.0.1.
    const rebound = await raw(`GET / HTTP/1.1\r\nHost: evil.example:${s.port}\r\nConnection: close\r\n\r\n`);
    expect(rebound).toMatch(/^HTTP\/1.1 421/);
  });

  it('refuses a WebSocket without the token or from another origin', async () => {
    await expect(wsOpen(`ws://127.0.0.1:${new URL(s.url).port}/api`)).rejects.toThrow(/401/);
    await expect(
      wsOpen(`ws://127.0.0.1:${new URL(s.url).port}/api?token=${s.token}`, { Origin: 'http://evil.example' }),
    ).rejects.toThrow(/401/);
  });

  it('answers the contract over the WebSocket, with envelopes for bad input', async () => {
    const ws = await wsOpen(`ws://127.0.0.1:${new URL(s.url).port}/api?token=${s.token}`, { Origin: s.origin });
    const call = (id: number, channel: string, req: unknown) =>
      new Promise<{ id: number; envelope: { ok: boolean; value?: { hosts: unknown[] }; error?: { code: string } } }>((resolve) => {
        const onMsg = (d: WebSocket.RawData) => {
          const m = JSON.parse(String(d));
          if (m.type === 'result' && m.id === id) {
            ws.off('message', onMsg);
            resolve(m);
          }
        };
        ws.on('message', onMsg);
        ws.send(JSON.stringify({ type: 'invoke', id, channel, req }));
      });
    const inv = await call(1, 'inventory:get', {});
    expect(inv.envelope.ok).toBe(true);
    expect(inv.envelope.value!.hosts).toHaveLength(20);
    const bad = await call(2, 'migrations:start', { vms: 'all', to: 3 });
    expect(bad.envelope).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    ws.close();
  });

  it('lets the browser keep the content-named files, never the page', async () => {
    const page = await fetch(s.url);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    const scripts = [...html.matchAll(/src="\.\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const file of scripts) {
      const res = await fetch(`${s.origin}/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control'), file).toBe('public, max-age=31536000, immutable');
    }
    // Not named by its content: asked for again each time.
    expect((await fetch(`${s.origin}/favicon.svg`)).headers.get('cache-control')).toBe('no-store');
  });

  it('does not serve files outside the console build', async () => {
    const res = await fetch(`${s.origin}/..%2f..%2fpackage.json?token=${s.token}`);
    expect(res.status).toBe(404);
  });

  it('survives hostile HTTP and WebSocket input, before and after authentication, and answers the next good request', async () => {
    // The requests that used to end the process, then random bytes.
    for (const bad of ['GET //[ HTTP/1.1\r\nHost: x\r\n\r\n', `GET /%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`, 'garbage\r\n\r\n']) {
      await raw(bad);
    }
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), async (bytes) => {
        await raw(Buffer.from(bytes));
      }),
      { numRuns: 150 },
    );
    // Authenticated: an oversized frame, non-JSON, non-UTF-8 and a wrong shape each close only that socket.
    for (const payload of [Buffer.alloc(2 * 1024 * 1024, 0x61), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from('{"type":"invoke"}'), Buffer.from('[')]) {
      const ws = await wsOpen(`ws://127.0.0.1:${s.port}/api?token=${s.token}`, { Origin: s.origin });
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.once('error', () => resolve());
        ws.send(payload);
      });
    }
    const again = await fetch(s.url);
    expect(again.status).toBe(200);
    const ws = await wsOpen(`ws://127.0.0.1:${s.port}/api?token=${s.token}`, { Origin: s.origin });
    const reply = await new Promise<string>((resolve) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'app:info', req: {} }));
    });
    expect(JSON.parse(reply)).toMatchObject({ type: 'result', id: 1, envelope: { ok: true } });
    ws.close();
  }, 120_000);
});

describe('the way back to a console', () => {
  it('ferry open finds the running console; the next start takes the same port; a stopped one is said', async () => {
    const dataDir = tempDataDir();
    const env = { FERRY_NO_BROWSER: '1' };
    const first = await startServe({ dataDir, port: null });
    let port: string;
    try {
      port = new URL(first.url).port;
      const file = path.join(dataDir, 'console.json');
      expect(fs.statSync(file).mode & 0o777, 'the address holds the token: for this user only').toBe(0o600);
      const open = await runCli(['open', '--json'], { dataDir, env });
      expect(open.code, open.stderr).toBe(0);
      // Printed without its token; the browser is handed the whole address.
      expect(JSON.parse(open.stdout)).toEqual({ url: `http://127.0.0.1:${port}/` });
    } finally {
      await first.stop();
    }
    const gone = await runCli(['open'], { dataDir, env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no browser console is running');
    const second = await startServe({ dataDir, port: null });
    try {
      expect(new URL(second.url).port).toBe(port);
      expect(new URL(second.url).searchParams.get('token')).not.toBe(new URL(first.url).searchParams.get('token'));
    } finally {
      await second.stop();
    }
  });
});
