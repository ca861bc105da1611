// The BUILT Electron main and preload bundles (dist/main/electron-main.js and
// dist/preload/preload.js; `npm run build` first), loaded in Node with a stand-in for the
// `electron` module (Module._load hooked) that records what it is asked: the privileged
// app:// scheme and sandbox before `ready`, the web-contents-created guard, every window's
// webPreferences (the console's and the hidden PDF window's), the app:// handler and the
// session's permission handlers, one ipcMain.handle per contract channel, and the sender
// check as it answers a fake event from a subframe or another origin. The preload bundle,
// with a stand-in contextBridge and ipcRenderer, must expose exactly the contract.
//
// What is not stood in for: the data directory's owner lock, the store and the local
// socket are the real ones (on a temporary directory through FERRY_DATA_DIR), as are the
// app:// file reads; Chromium itself (navigation, the CSP, the real sandbox) is not here.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import Module from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHANNELS, EVENT_NAMES, type Envelope } from '../../preload/contract';
import { APP_INDEX_URL } from '../../main/electron-origin';
import { Store } from '../../main/store/store';
import { LOCK_FILE } from '../../main/owner';
import { record } from './store.test-record';

const root = path.resolve(__dirname, '..', '..');
const MAIN_BUNDLE = path.join(root, 'dist', 'main', 'electron-main.js');
const PRELOAD_BUNDLE = path.join(root, 'dist', 'preload', 'preload.js');
const requireCjs = createRequire(__filename);

type Fn = (...args: any[]) => any;

/** What the stand-in was asked, in order. */
interface Recorded {
  calls: string[];
  privileged: unknown[];
  protocolHandlers: Map<string, Fn>;
  permissionRequest: Fn | null;
  permissionCheck: Fn | null;
  devicePermission: Fn | null;
  sessionEvents: Map<string, Fn>;
  windows: FakeWindow[];
  ipc: Map<string, Fn>;
  ipcRegistrations: string[];
  errorBoxes: [string, string][];
  exits: number[];
  sent: [string, unknown][];
}

class FakeWebContents extends EventEmitter {
  windowOpenHandler: Fn | null = null;
  constructor(private readonly rec: Recorded) {
    super();
  }
  send(channel: string, payload: unknown) {
    this.rec.sent.push([channel, payload]);
  }
  setWindowOpenHandler(fn: Fn) {
    this.windowOpenHandler = fn;
  }
  async executeJavaScript() {
    return true;
  }
  async printToPDF() {
    return Buffer.from('%PDF-1.7 stand-in');
  }
}

interface FakeWindow {
  options: { show?: boolean; webPreferences?: Record<string, unknown> } & Record<string, unknown>;
  loaded: string[];
  destroyed: boolean;
  webContents: FakeWebContents;
}

function standIn(opts: { isPackaged: boolean; switches?: string[] }) {
  const rec: Recorded = {
    calls: [], privileged: [], protocolHandlers: new Map(), permissionRequest: null, permissionCheck: null, devicePermission: null,
    sessionEvents: new Map(), windows: [], ipc: new Map(), ipcRegistrations: [], errorBoxes: [], exits: [], sent: [],
  };
  let ready!: () => void;
  const readyPromise = new Promise<void>((r) => (ready = r));
  const app = Object.assign(new EventEmitter(), {
    isPackaged: opts.isPackaged,
    commandLine: { hasSwitch: (s: string) => (opts.switches ?? []).includes(s) },
    whenReady: () => (rec.calls.push('app.whenReady'), readyPromise),
    enableSandbox: () => void rec.calls.push('app.enableSandbox'),
    exit: (code: number) => void rec.exits.push(code),
    quit: () => void rec.calls.push('app.quit'),
  });
  const on = app.on.bind(app);
  app.on = ((event: string, fn: Fn) => (rec.calls.push(`app.on:${event}`), on(event, fn))) as typeof app.on;
  const live: FakeWindow[] = [];
  class BrowserWindow implements FakeWindow {
    loaded: string[] = [];
    destroyed = false;
    webContents = new FakeWebContents(rec);
    constructor(public options: FakeWindow['options']) {
      rec.calls.push('new BrowserWindow');
      rec.windows.push(this);
      live.push(this);
      // As Electron does: every new web contents is announced before it loads anything.
      app.emit('web-contents-created', {}, this.webContents);
    }
    static getAllWindows() {
      return live.filter((w) => !w.destroyed);
    }
    async loadURL(url: string) {
      this.loaded.push(url);
    }
    destroy() {
      this.destroyed = true;
    }
  }
  const ses = {
    protocol: { handle: (scheme: string, fn: Fn) => void rec.protocolHandlers.set(scheme, fn) },
    setPermissionRequestHandler: (fn: Fn) => void (rec.permissionRequest = fn),
    setPermissionCheckHandler: (fn: Fn) => void (rec.permissionCheck = fn),
    setDevicePermissionHandler: (fn: Fn) => void (rec.devicePermission = fn),
    on: (event: string, fn: Fn) => void rec.sessionEvents.set(event, fn),
  };
  const electron = {
    app,
    BrowserWindow,
    protocol: { registerSchemesAsPrivileged: (list: unknown[]) => (rec.calls.push('protocol.registerSchemesAsPrivileged'), rec.privileged.push(...list)) },
    session: { defaultSession: ses },
    ipcMain: {
      handle: (channel: string, fn: Fn) => {
        rec.ipcRegistrations.push(channel);
        // Electron throws on a second handler for one channel.
        if (rec.ipc.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
        rec.ipc.set(channel, fn);
      },
    },
    dialog: { showErrorBox: (title: string, body: string) => void rec.errorBoxes.push([title, body]) },
    Notification: class {
      static isSupported() {
        return false;
      }
    },
  };
  return { electron, rec, ready, app };
}

/** Requires `file` with `electron` answered by the stand-in; records what else it requires. */
function loadWith(file: string, electron: unknown): { exports: unknown; required: string[] } {
  const m = Module as unknown as { _load: Fn };
  const original = m._load;
  const required: string[] = [];
  m._load = function (this: unknown, request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) {
    if (parent?.filename === file) required.push(request);
    if (request === 'electron') return electron;
    return original.call(this, request, parent, ...rest);
  };
  try {
    delete requireCjs.cache[file];
    return { exports: requireCjs(file), required };
  } finally {
    m._load = original;
  }
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const top = { url: APP_INDEX_URL, parent: null, processId: 4, routingId: 1 };
const fromFrame = (senderFrame: unknown, mainFrame: unknown = senderFrame) => ({ senderFrame, sender: { mainFrame } });

describe('the built Electron main, with a stand-in electron', () => {
  let dir: string;
  let s: ReturnType<typeof standIn>;
  const savedDataDir = process.env.FERRY_DATA_DIR;
  let atLoad: string[] = [];

  beforeAll(async () => {
    expect(fs.existsSync(MAIN_BUNDLE), 'run `npm run build` first').toBe(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-standin-'));
    // A finished migration, so that history:pdf has a report to print.
    const store = Store.open(dir);
    store.insertMigration(record('m-pdf'));
    store.close();
    process.env.FERRY_DATA_DIR = dir;
    s = standIn({ isPackaged: false });
    loadWith(MAIN_BUNDLE, s.electron);
    atLoad = [...s.rec.calls];
    s.ready();
    await until(() => s.rec.windows.length > 0, 'the console window');
  });

  afterAll(async () => {
    s?.app.emit('will-quit');
    // will-quit closes the socket, the app and the lock asynchronously.
    await until(() => !fs.existsSync(path.join(dir, LOCK_FILE)), 'the lock released on will-quit');
    if (savedDataDir === undefined) delete process.env.FERRY_DATA_DIR;
    else process.env.FERRY_DATA_DIR = savedDataDir;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers app:// as privileged, enables the sandbox and guards web contents before ready', () => {
    expect(atLoad).toContain('protocol.registerSchemesAsPrivileged');
    expect(atLoad).toContain('app.enableSandbox');
    expect(atLoad).toContain('app.on:web-contents-created');
    expect(atLoad).toContain('app.whenReady');
    // Nothing that needs `ready` ran before it.
    expect(atLoad).not.toContain('new BrowserWindow');
    expect(atLoad.indexOf('protocol.registerSchemesAsPrivileged')).toBeLessThan(atLoad.indexOf('app.whenReady'));
    expect(s.rec.privileged).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect(s.rec.ipc.size).toBe(CHANNELS.length); // registered after ready
    // The real owner lock: this console owns its data directory while it runs.
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(true);
  });

  it('opens the console window sandboxed, isolated, without Node, on app://ferry', () => {
    const [win] = s.rec.windows;
    expect(win!.loaded).toEqual([APP_INDEX_URL]);
    expect(win!.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(win!.options.webPreferences!.webSecurity).not.toBe(false);
    expect(win!.options.webPreferences!.preload).toBe(PRELOAD_BUNDLE);
  });

  it('serves app:// and sets the permission and device handlers on the session', async () => {
    const handler = s.rec.protocolHandlers.get('app');
    expect(handler).toBeTypeOf('function');
    const page = (await handler!(new Request('app://ferry/index.html'))) as Response;
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(((await handler!(new Request('app://ferry/%2e%2e/%2e%2e/package.json'))) as Response).status).toBe(404);
    expect(((await handler!(new Request('app://ferry/index.html', { method: 'POST', body: 'x' }))) as Response).status).toBe(405);

    let granted: boolean | undefined;
    s.rec.permissionRequest!({}, 'media', (ok: boolean) => (granted = ok), { requestingUrl: APP_INDEX_URL, isMainFrame: true });
    expect(granted).toBe(false);
    s.rec.permissionRequest!({}, 'notifications', (ok: boolean) => (granted = ok), { requestingUrl: APP_INDEX_URL, isMainFrame: true });
    expect(granted).toBe(true);
    s.rec.permissionRequest!({}, 'notifications', (ok: boolean) => (granted = ok), { requestingUrl: 'https://evil.example/', isMainFrame: true });
    expect(granted).toBe(false);
    expect(s.rec.permissionCheck!({}, 'geolocation', APP_INDEX_URL, { isMainFrame: true })).toBe(false);
    expect(s.rec.devicePermission!({ deviceType: 'usb' })).toBe(false);
    expect([...s.rec.sessionEvents.keys()].sort()).toEqual(['select-hid-device', 'select-serial-port', 'select-usb-device']);
  });

  it('guards every web contents it creates: no navigation away, no new window, no webview', () => {
    const wc = s.rec.windows[0]!.webContents;
    let prevented = 0;
    wc.emit('will-navigate', { preventDefault: () => prevented++ }, 'https://evil.example/');
    wc.emit('will-navigate', { preventDefault: () => prevented++ }, `${APP_INDEX_URL}#/history`);
    expect(prevented).toBe(1);
    wc.emit('will-redirect', { preventDefault: () => prevented++ }, 'file:///etc/passwd');
    wc.emit('will-attach-webview', { preventDefault: () => prevented++ });
    expect(prevented).toBe(3);
    expect(wc.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });

  it('handles each contract channel once, and nothing else', () => {
    expect([...s.rec.ipcRegistrations].sort()).toEqual([...CHANNELS].sort());
  });

  it('answers its own top frame through the router', async () => {
    const info = (await s.rec.ipc.get('app:info')!(fromFrame(top), {})) as Envelope<{ host: string; dataDir: string }>;
    expect(info).toMatchObject({ ok: true, value: { host: 'electron', dataDir: dir } });
    // A frame object that is not the same object but the same frame (process and routing id).
    const again = (await s.rec.ipc.get('app:info')!(fromFrame({ ...top }, top), {})) as Envelope<unknown>;
    expect(again.ok).toBe(true);
    const bad = (await s.rec.ipc.get('migrations:cancel')!(fromFrame(top), { id: 42 })) as Envelope<unknown>;
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it.each([
    ['a subframe of the app page', fromFrame({ ...top, parent: top, routingId: 2 }, top)],
    ['a foreign origin in the top frame', fromFrame({ ...top, url: 'https://evil.example/index.html' })],
    ['a look-alike host', fromFrame({ ...top, url: 'app://ferry.evil/index.html' })],
    ['another page of the app origin', fromFrame({ ...top, url: 'app://ferry/assets/evil.html' })],
    ['a file: page', fromFrame({ ...top, url: 'file:///tmp/index.html' })],
    ['a frame already gone', fromFrame(null, top)],
    ['a top frame of another window', fromFrame({ ...top, processId: 9, routingId: 7 }, top)],
  ])('refuses %s without reaching the router', async (_what, event) => {
    const before = (await s.rec.ipc.get('settings:get')!(fromFrame(top), {})) as Envelope<{ headroomPct: number }>;
    expect(before.ok).toBe(true);
    const current = (before as { value: { headroomPct: number } }).value.headroomPct;
    const next = current === 20 ? 25 : 20;
    const env = (await s.rec.ipc.get('settings:set')!(event, { headroomPct: next })) as Envelope<unknown>;
    expect(env).toEqual({ ok: false, error: { code: 'bad-request', message: 'request from an unknown frame' } });
    const after = (await s.rec.ipc.get('settings:get')!(fromFrame(top), {})) as Envelope<{ headroomPct: number }>;
    expect((after as { value: { headroomPct: number } }).value.headroomPct).toBe(current);
  });

  it("pushes the app's events to its windows", async () => {
    s.rec.sent.length = 0;
    const before = (await s.rec.ipc.get('settings:get')!(fromFrame(top), {})) as { value: { headroomPct: number } };
    const next = before.value.headroomPct === 15 ? 12 : 15;
    const env = (await s.rec.ipc.get('settings:set')!(fromFrame(top), { headroomPct: next })) as Envelope<unknown>;
    expect(env.ok).toBe(true);
    expect(s.rec.sent.map(([c]) => c)).toContain('settings:changed');
    expect(s.rec.sent.every(([c]) => (EVENT_NAMES as string[]).includes(c))).toBe(true);
  });

  it('prints a report in a hidden window with the same webPreferences, then destroys it', async () => {
    const n = s.rec.windows.length;
    const env = (await s.rec.ipc.get('history:pdf')!(fromFrame(top), { id: 'm-pdf' })) as Envelope<{ fileName: string; base64: string }>;
    expect(env).toMatchObject({ ok: true, value: { fileName: 'ferry-report-m-pdf.pdf' } });
    expect(Buffer.from((env as { value: { base64: string } }).value.base64, 'base64').toString()).toBe('%PDF-1.7 stand-in');
    const hidden = s.rec.windows[n]!;
    expect(hidden.options.show).toBe(false);
    expect(hidden.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(hidden.options.webPreferences!.webSecurity).not.toBe(false);
    expect(hidden.loaded).toEqual([`${APP_INDEX_URL}#/report/m-pdf`]);
    expect(hidden.destroyed).toBe(true);
  });

  it('gives every window it made the secure webPreferences', () => {
    expect(s.rec.windows.length).toBeGreaterThanOrEqual(2);
    for (const w of s.rec.windows) {
      const p = w.options.webPreferences!;
      expect(p).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, disableBlinkFeatures: 'Auxclick' });
      expect(p.webSecurity).not.toBe(false);
      expect(p.nodeIntegrationInSubFrames).not.toBe(true);
      expect(p.webviewTag).not.toBe(true);
      expect(p.allowRunningInsecureContent).not.toBe(true);
    }
  });
});

describe('the built Electron main, packaged, started with a forbidden switch', () => {
  it('drops the code-loading variables, refuses to start and registers nothing', async () => {
    const saved = process.env.FERRY_QEMU;
    process.env.FERRY_QEMU = '/tmp/not-qemu';
    const s = standIn({ isPackaged: true, switches: ['remote-debugging-port'] });
    const err = process.stderr.write;
    const lines: string[] = [];
    process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      loadWith(MAIN_BUNDLE, s.electron);
    } finally {
      process.stderr.write = err;
    }
    try {
      expect(process.env.FERRY_QEMU).toBeUndefined();
      expect(lines.join('')).toContain('ignoring FERRY_QEMU');
      s.ready();
      await until(() => s.rec.exits.length > 0, 'exit');
      expect(s.rec.exits).toEqual([1]);
      expect(s.rec.errorBoxes[0]![1]).toContain('--remote-debugging-port');
      expect(s.rec.ipc.size).toBe(0);
      expect(s.rec.windows).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.FERRY_QEMU;
      else process.env.FERRY_QEMU = saved;
    }
  });
});

describe('the built preload, with a stand-in contextBridge and ipcRenderer', () => {
  const exposed = new Map<string, any>();
  const invoked: [string, unknown][] = [];
  const renderer = new EventEmitter();
  let answer: Envelope<unknown> = { ok: true, value: 'fine' };
  let required: string[] = [];

  beforeAll(() => {
    expect(fs.existsSync(PRELOAD_BUNDLE), 'run `npm run build` first').toBe(true);
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) },
      ipcRenderer: {
        invoke: async (channel: string, req: unknown) => (invoked.push([channel, req]), answer),
        on: (event: string, fn: Fn) => renderer.on(event, fn),
        removeListener: (event: string, fn: Fn) => renderer.removeListener(event, fn),
      },
    };
    required = loadWith(PRELOAD_BUNDLE, electron).required;
  });

  it('requires nothing but electron (a sandboxed preload cannot)', () => {
    expect(required).toEqual(['electron']);
  });

  it('exposes one object, window.ferry, whose functions are exactly the contract and on()', () => {
    expect([...exposed.keys()]).toEqual(['ferry']);
    const api = exposed.get('ferry');
    const reachable: string[] = [];
    for (const [domain, group] of Object.entries(api)) {
      if (domain === 'on') {
        expect(group).toBeTypeOf('function');
        continue;
      }
      expect(Object.getPrototypeOf(group)).toBe(Object.prototype);
      for (const [verb, fn] of Object.entries(group as object)) {
        expect(fn, `${domain}.${verb}`).toBeTypeOf('function');
        reachable.push(`${domain}:${verb}`);
      }
    }
    expect(reachable.sort()).toEqual([...CHANNELS].sort());
    // Nothing of Electron's leaks out: no ipcRenderer, no invoke, no send.
    expect(JSON.stringify(Object.keys(api))).not.toMatch(/ipc|invoke|send|require/);
  });

  it('forwards each function to its own channel and nothing else', async () => {
    const api = exposed.get('ferry');
    invoked.length = 0;
    for (const channel of CHANNELS) {
      const [domain, verb] = channel.split(':') as [string, string];
      await api[domain][verb]({ probe: channel });
    }
    expect(invoked.map(([c]) => c)).toEqual([...CHANNELS]);
    expect(invoked.every(([c, r]) => (r as { probe: string }).probe === c)).toBe(true);
  });

  it('turns an error envelope into a rejected FerryError with its code', async () => {
    answer = { ok: false, error: { code: 'not-found', message: 'no migration m-x' } };
    try {
      await expect(exposed.get('ferry').history.report({ id: 'm-x' })).rejects.toMatchObject({ name: 'FerryError', code: 'not-found', message: 'no migration m-x' });
    } finally {
      answer = { ok: true, value: 'fine' };
    }
  });

  it('subscribes only to contract events, hands over the payload without the IPC event, and unsubscribes', () => {
    const api = exposed.get('ferry');
    expect(() => api.on('ipc:secret', () => undefined)).toThrow(/unknown event/);
    const got: unknown[][] = [];
    const off = api.on('settings:changed', (...args: unknown[]) => got.push(args));
    expect(renderer.listenerCount('settings:changed')).toBe(1);
    renderer.emit('settings:changed', { sender: { send() {} }, senderFrame: {} }, { headroomPct: 10 });
    expect(got).toEqual([[{ headroomPct: 10 }]]);
    off();
    expect(renderer.listenerCount('settings:changed')).toBe(0);
    expect(renderer.eventNames()).toEqual([]);
  });
});
