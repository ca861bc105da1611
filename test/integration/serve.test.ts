// `ferry serve` security: loopback only, token required, Origin checked, no traversal.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import WebSocket from 'ws';
import { startServe, type Served } from '../e2e/harness';

function wsOpen(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('ferry serve', () => {
  let s: Served;
  beforeAll(async () => {
    s = await startServe();
  });
  afterAll(() => s.stop());

  it('binds to 127.0.0.1 and refuses requests without the token', async () => {
    expect(new URL(s.url).hostname).toBe('127.0.0.1');
    const noToken = await fetch(`${s.origin}/`);
    expect(noToken.status).toBe(401);
    const wrong = await fetch(`${s.origin}/?token=${'x'.repeat(s.token.length)}`);
    expect(wrong.status).toBe(401);
    const ok = await fetch(s.url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<div id="root">');
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

  it('does not serve files outside the console build', async () => {
    const res = await fetch(`${s.origin}/..%2f..%2fpackage.json?token=${s.token}`);
    expect(res.status).toBe(404);
  });
});
