// The QMP client against a fake QMP server on a unix socket (and one on loopback TCP):
// greeting, negotiation, ids, timeouts, events, and every way a peer can misbehave.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QmpClient, QmpError } from '../../main/qemu/qmp';

const GREETING = JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: '' }, capabilities: ['oob'] } });

type Handler = (cmd: { execute: string; id?: string; arguments?: Record<string, unknown> }, sock: net.Socket) => void;

interface Fake {
  path: string;
  received: { execute: string; id?: string; arguments?: Record<string, unknown> }[];
  sockets: net.Socket[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function reply(sock: net.Socket, id: string | undefined, ret: unknown = {}) {
  sock.write(JSON.stringify({ return: ret, id }) + '\n');
}

/** A fake QMP server; `handler` answers commands after qmp_capabilities (default: {}). */
async function fakeQmp(opts: { greeting?: string | null; handler?: Handler; tcp?: boolean } = {}): Promise<Fake & { port: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-qmp-'));
  const sockPath = path.join(dir, 'qmp.sock');
  const received: Fake['received'] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => {});
    if (opts.greeting !== null) sock.write((opts.greeting ?? GREETING) + '\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        received.push(cmd);
        if (cmd.execute === 'qmp_capabilities') reply(sock, cmd.id);
        else if (opts.handler) opts.handler(cmd, sock);
        else reply(sock, cmd.id);
      }
    });
  });
  await new Promise<void>((r) => (opts.tcp ? server.listen(0, '127.0.0.1', r) : server.listen(sockPath, r)));
  const port = opts.tcp ? (server.address() as net.AddressInfo).port : 0;
  const fake = {
    path: sockPath,
    port,
    received,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
        fs.rmSync(dir, { recursive: true, force: true });
      }),
  };
  cleanups.push(fake.close);
  return fake;
}

async function connected(fake: Fake, opts = {}): Promise<QmpClient> {
  const c = await QmpClient.connect({ path: fake.path }, opts);
  cleanups.push(() => c.close());
  return c;
}

async function rejection(p: Promise<unknown>): Promise<QmpError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(QmpError);
    return e as QmpError;
  }
  throw new Error('expected a rejection');
}

describe('QMP client', () => {
  it('reads the greeting and negotiates capabilities before anything else', async () => {
    const fake = await fakeQmp();
    const c = await connected(fake);
    expect(c.version).toBe('7.2.22');
    expect(fake.received[0]!.execute).toBe('qmp_capabilities');
    expect(c.isOpen).toBe(true);
  });

  it('works over loopback TCP too', async () => {
    const fake = await fakeQmp({ tcp: true });
    const c = await QmpClient.connect({ host: '127.0.0.1', port: fake.port });
    cleanups.push(() => c.close());
    expect(await c.execute('query-status')).toEqual({});
  });

  it('matches replies to commands by id, even out of order', async () => {
    const held: { id?: string; sock: net.Socket; n: number }[] = [];
    const fake = await fakeQmp({
      handler: (cmd, sock) => {
        held.push({ id: cmd.id, sock, n: cmd.arguments?.n as number });
        if (held.length === 3) for (const h of held.reverse()) reply(h.sock, h.id, { n: h.n });
      },
    });
    const c = await connected(fake);
    const results = await Promise.all([1, 2, 3].map((n) => c.execute<{ n: number }>('echo', { n })));
    expect(results.map((r) => r.n)).toEqual([1, 2, 3]);
    const ids = fake.received.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('turns a QMP error reply into a command error with its class', async () => {
    const fake = await fakeQmp({
      handler: (cmd, sock) => sock.write(JSON.stringify({ error: { class: 'CommandNotFound', desc: 'The command nope has not been found' }, id: cmd.id }) + '\n'),
    });
    const c = await connected(fake);
    const err = await rejection(c.execute('nope'));
    expect(err.code).toBe('command');
    expect(err.qmpClass).toBe('CommandNotFound');
    expect(err.message).toContain('has not been found');
    // The connection survives a command error.
    expect(c.isOpen).toBe(true);
  });

  it('delivers asynchronous events with their data and timestamp, between replies', async () => {
    const fake = await fakeQmp({
      handler: (cmd, sock) => {
        sock.write(JSON.stringify({ event: 'MIGRATION', data: { status: 'active' }, timestamp: { seconds: 1700000000, microseconds: 250000 } }) + '\n');
        sock.write(JSON.stringify({ event: 'MIGRATION_PASS', data: { pass: 2 }, timestamp: { seconds: 1700000001, microseconds: 0 } }) + '\n');
        reply(sock, cmd.id, { status: 'active' });
        sock.write(JSON.stringify({ event: 'STOP', timestamp: { seconds: 1700000002, microseconds: 0 } }) + '\n');
      },
    });
    const c = await connected(fake);
    const events: { event: string; data: unknown; at: number }[] = [];
    c.onEvent((e) => events.push(e));
    const stop = c.waitForEvent('STOP', 2000);
    expect(await c.execute('query-migrate')).toEqual({ status: 'active' });
    await stop;
    expect(events.map((e) => e.event)).toEqual(['MIGRATION', 'MIGRATION_PASS', 'STOP']);
    expect(events[0]!.data).toEqual({ status: 'active' });
    expect(events[0]!.at).toBe(1700000000250);
    expect(events[2]!.data).toEqual({});
  });

  it('times out a command the peer never answers, and stays usable; a late reply is dropped', async () => {
    let stalled: { id?: string; sock: net.Socket } | null = null;
    const fake = await fakeQmp({
      handler: (cmd, sock) => {
        if (cmd.execute === 'slow') stalled = { id: cmd.id, sock };
        else reply(sock, cmd.id, { ok: true });
      },
    });
    const c = await connected(fake);
    const t0 = Date.now();
    const err = await rejection(c.execute('slow', undefined, { timeoutMs: 150 }));
    expect(err.code).toBe('timeout');
    expect(err.message).toContain('slow');
    expect(Date.now() - t0).toBeLessThan(1000);
    reply(stalled!.sock, stalled!.id, { late: true });
    expect(await c.execute('fast')).toEqual({ ok: true });
  });

  it('rejects every pending command when the peer closes mid-command', async () => {
    const fake = await fakeQmp({ handler: (_cmd, sock) => setTimeout(() => sock.destroy(), 20) });
    const c = await connected(fake);
    const closed = new Promise<QmpError>((r) => c.onClose(r));
    const errs = await Promise.all([rejection(c.execute('a')), rejection(c.execute('b'))]);
    for (const e of errs) expect(e.code).toBe('closed');
    expect((await closed).code).toBe('closed');
    expect(c.isOpen).toBe(false);
    // Later commands fail at once, they do not hang.
    expect((await rejection(c.execute('c'))).code).toBe('closed');
  });

  it('fails waitForEvent when the connection drops', async () => {
    const fake = await fakeQmp();
    const c = await connected(fake);
    const wait = c.waitForEvent('SHUTDOWN', 5000);
    fake.sockets[0]!.destroy();
    expect((await rejection(wait)).code).toBe('closed');
  });

  it('reports malformed JSON as a protocol error, not a crash', async () => {
    const fake = await fakeQmp({ handler: (_cmd, sock) => sock.write('{"return": {oops\n') });
    const c = await connected(fake);
    const err = await rejection(c.execute('query-status'));
    expect(err.code).toBe('protocol');
    expect(err.message).toContain('malformed');
    expect(c.isOpen).toBe(false);
  });

  it('reports a non-object message as a protocol error', async () => {
    const fake = await fakeQmp({ handler: (_cmd, sock) => sock.write('[1,2,3]\n') });
    const c = await connected(fake);
    expect((await rejection(c.execute('x'))).code).toBe('protocol');
  });

  it('drops the connection on an oversized line, with or without its newline', async () => {
    for (const newline of [false, true]) {
      const fake = await fakeQmp({
        handler: (cmd, sock) => sock.write(JSON.stringify({ return: { blob: 'x'.repeat(64 * 1024) }, id: cmd.id }) + (newline ? '\n' : '')),
      });
      const c = await connected(fake, { maxLineBytes: 16 * 1024 });
      const err = await rejection(c.execute('big'));
      expect(err.code).toBe('oversized');
      expect(c.isOpen).toBe(false);
    }
  });

  it('refuses a peer that does not greet with QMP', async () => {
    const fake = await fakeQmp({ greeting: JSON.stringify({ hello: 'world' }) });
    const err = await rejection(QmpClient.connect({ path: fake.path }));
    expect(err.code).toBe('protocol');
  });

  it('times out a peer that never greets', async () => {
    const fake = await fakeQmp({ greeting: null });
    const err = await rejection(QmpClient.connect({ path: fake.path }, { connectTimeoutMs: 200 }));
    expect(err.code).toBe('timeout');
  });

  it('times out a peer that greets but never answers qmp_capabilities', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-qmp-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const p = path.join(dir, 's');
    const socks: net.Socket[] = [];
    const server = net.createServer((s) => {
      socks.push(s);
      s.on('error', () => {});
      s.write(GREETING + '\n');
    });
    await new Promise<void>((r) => server.listen(p, r));
    cleanups.push(() => {
      for (const s of socks) s.destroy();
      server.close();
    });
    const err = await rejection(QmpClient.connect({ path: p }, { connectTimeoutMs: 200 }));
    expect(err.code).toBe('timeout');
  });

  it('reports a missing socket as a connect error, and connectWithRetry waits for it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-qmp-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const p = path.join(dir, 'later.sock');
    expect((await rejection(QmpClient.connect({ path: p }))).code).toBe('connect');
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.write(GREETING + '\n');
      s.on('data', (d) => {
        const cmd = JSON.parse(d.toString().split('\n')[0]!);
        reply(s, cmd.id);
      });
    });
    cleanups.push(() => {
      server.close();
    });
    setTimeout(() => server.listen(p), 300);
    const c = await QmpClient.connectWithRetry({ path: p }, 3000);
    expect(c.isOpen).toBe(true);
    c.close();
    expect((await rejection(QmpClient.connectWithRetry({ path: path.join(dir, 'never') }, 300))).code).toBe('connect');
  });

  it('a throwing event listener does not break the connection', async () => {
    const fake = await fakeQmp({
      handler: (cmd, sock) => {
        sock.write(JSON.stringify({ event: 'RESUME', timestamp: { seconds: 1, microseconds: 0 } }) + '\n');
        reply(sock, cmd.id, 7);
      },
    });
    const c = await connected(fake);
    c.onEvent(() => {
      throw new Error('listener bug');
    });
    expect(await c.execute('x')).toBe(7);
    expect(c.isOpen).toBe(true);
  });
});
