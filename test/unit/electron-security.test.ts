// The desktop app's security decisions: app:// path resolution, the origin and page
// checks, permissions, the IPC sender check, what the packaged app ignores; and the
// Electron wiring (main/electron-harden.ts) driven through fakes of Electron's objects.
import { describe, it, expect, vi, beforeAll, afterAll } from 'vitest';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

vi.mock('electron', () => ({
  app: { enableSandbox: vi.fn() },
  protocol: { registerSchemesAsPrivileged: vi.fn() },
}));

import { APP_CSP, APP_INDEX_URL, contentType, isAppOrigin, isAppPage, resolveAppPath } from '../../main/electron-origin';
import {
  allowPermission,
  dropPackagedEnvOverrides,
  forbiddenSwitches,
  isTrustedSender,
  PACKAGED_IGNORED_ENV,
  type FrameLike,
} from '../../main/electron-policy';
import { guardWebContents, hardenSession, serveRenderer } from '../../main/electron-harden';

const root = path.resolve(os.tmpdir(), 'ferry-app-root');

describe('resolveAppPath', () => {
  it('serves index.html for the root, with or without a hash or query', () => {
    const index = path.join(root, 'index.html');
    expect(resolveAppPath(root, 'app://ferry/')).toBe(index);
    expect(resolveAppPath(root, 'app://ferry')).toBe(index);
    expect(resolveAppPath(root, 'app://ferry/#/report/m1')).toBe(index);
    expect(resolveAppPath(root, 'app://ferry/?x=1')).toBe(index);
  });

  it('maps a file below the root', () => {
    expect(resolveAppPath(root, 'app://ferry/assets/index-B9yNYWZn.js')).toBe(path.join(root, 'assets', 'index-B9yNYWZn.js'));
    expect(resolveAppPath(root, 'app://ferry/index.html#/report/x')).toBe(path.join(root, 'index.html'));
  });

  it.each([
    ['dot-dot', 'app://ferry/../etc/passwd'],
    ['dot-dot inside', 'app://ferry/assets/../../etc/passwd'],
    ['encoded dot-dot', 'app://ferry/%2e%2e/%2e%2e/etc/passwd'],
    ['upper-case encoded dot-dot', 'app://ferry/%2E%2E/secret'],
    ['encoded slash', 'app://ferry/..%2f..%2fetc%2fpasswd'],
    ['encoded backslash', 'app://ferry/..%5c..%5cwindows%5cwin.ini'],
    ['absolute path (empty segment)', 'app://ferry//etc/passwd'],
    ['encoded absolute path', 'app://ferry/%2Fetc%2Fpasswd'],
    ['Windows drive', 'app://ferry/C:%5CWindows%5Cwin.ini'],
    ['NUL byte', 'app://ferry/index.html%00.js'],
    ['double-encoded dot-dot', 'app://ferry/%252e%252e/x'],
    ['malformed escape', 'app://ferry/%E0%A4%A'],
    ['dot file', 'app://ferry/.env'],
    ['trailing slash (a directory)', 'app://ferry/assets/'],
    ['another host', 'app://evil/index.html'],
    ['a host that starts like ours', 'app://ferry.evil/index.html'],
    ['file: URL', `file://${root}/index.html`],
    ['https URL', 'https://ferry/index.html'],
  ])('refuses %s', (_what, url) => {
    expect(resolveAppPath(root, url)).toBeNull();
  });
});

describe('contentType', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['assets/a.js', 'text/javascript; charset=utf-8'],
    ['assets/a.CSS', 'text/css; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
    ['font.woff2', 'font/woff2'],
    ['x.bin', 'application/octet-stream'],
    ['noext', 'application/octet-stream'],
  ])('%s is %s', (file, type) => expect(contentType(file)).toBe(type));
});

describe('isAppOrigin / isAppPage', () => {
  it('accepts the app origin and its page with any route', () => {
    expect(isAppOrigin('app://ferry')).toBe(true);
    expect(isAppPage(APP_INDEX_URL)).toBe(true);
    expect(isAppPage(`${APP_INDEX_URL}#/report/abc`)).toBe(true);
    expect(isAppPage('app://ferry/')).toBe(true);
  });

  it.each([
    'file:///opt/ferry/resources/app.asar/dist/renderer/index.html',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'https://example.com/',
    'http://127.0.0.1:8080/index.html',
    'app://evil/index.html',
    'app://ferry:81/index.html',
    'app://user@ferry/index.html',
    'blob:app://ferry/0b5b1a2e-aaaa',
    'about:blank',
    'not a url',
    '',
  ])('refuses %s as the app page', (url) => {
    expect(isAppPage(url)).toBe(false);
  });

  it('refuses other files of the app origin as a page to navigate to', () => {
    expect(isAppOrigin('app://ferry/assets/a.js')).toBe(true);
    expect(isAppPage('app://ferry/assets/a.js')).toBe(false);
  });
});

describe('allowPermission', () => {
  it('grants notifications to the app top frame', () => {
    expect(allowPermission({ permission: 'notifications', requestingUrl: APP_INDEX_URL, isMainFrame: true })).toBe(true);
    expect(allowPermission({ permission: 'notifications', requestingUrl: 'app://ferry', isMainFrame: true })).toBe(true);
  });

  it.each(['media', 'geolocation', 'display-capture', 'clipboard-read', 'clipboard-sanitized-write', 'midi', 'midiSysex', 'hid', 'usb', 'serial', 'fullscreen', 'pointerLock', 'openExternal', 'fileSystem', 'window-management', 'unknown'])(
    'denies %s, even to the app',
    (permission) => {
      expect(allowPermission({ permission, requestingUrl: APP_INDEX_URL, isMainFrame: true })).toBe(false);
    },
  );

  it('denies notifications to another origin and to a subframe', () => {
    expect(allowPermission({ permission: 'notifications', requestingUrl: 'https://example.com/', isMainFrame: true })).toBe(false);
    expect(allowPermission({ permission: 'notifications', requestingUrl: 'file:///x/index.html', isMainFrame: true })).toBe(false);
    expect(allowPermission({ permission: 'notifications', requestingUrl: APP_INDEX_URL, isMainFrame: false })).toBe(false);
    expect(allowPermission({ permission: 'notifications', requestingUrl: undefined, isMainFrame: true })).toBe(false);
  });
});

describe('isTrustedSender', () => {
  const top: FrameLike = { url: `${APP_INDEX_URL}#/`, parent: null, processId: 4, routingId: 1 };
  const event = (senderFrame: FrameLike | null) => ({ senderFrame, sender: { mainFrame: top } });

  it("answers the window's top frame on the app page", () => {
    expect(isTrustedSender(event(top))).toBe(true);
    // Another wrapper object of the same frame.
    expect(isTrustedSender(event({ ...top }))).toBe(true);
  });

  it('refuses a subframe, even one showing the app page', () => {
    expect(isTrustedSender(event({ url: APP_INDEX_URL, parent: top, processId: 4, routingId: 7 }))).toBe(false);
    expect(isTrustedSender(event({ url: APP_INDEX_URL, parent: top, processId: 4, routingId: 1 }))).toBe(false);
  });

  it('refuses a top-level frame that is not the main frame of the sending window', () => {
    expect(isTrustedSender(event({ url: APP_INDEX_URL, parent: null, processId: 9, routingId: 1 }))).toBe(false);
  });

  it('refuses another origin, file: and a frame already gone', () => {
    expect(isTrustedSender(event({ ...top, url: 'https://example.com/' }))).toBe(false);
    expect(isTrustedSender(event({ ...top, url: 'file:///opt/ferry/dist/renderer/index.html' }))).toBe(false);
    expect(isTrustedSender(event({ ...top, url: 'app://evil/index.html' }))).toBe(false);
    expect(isTrustedSender(event(null))).toBe(false);
  });
});

describe('the packaged app', () => {
  it('drops the variables that pick code to load, and keeps the rest', () => {
    const env: Record<string, string | undefined> = {
      FERRY_SQLITE_BINDING: '/tmp/evil.node',
      FERRY_CHROMIUM: '/tmp/evil',
      FERRY_QEMU: '/tmp/qemu',
      FERRY_ROOT: '/tmp/root',
      FERRY_DATA_DIR: '/home/u/ferry',
      PATH: '/usr/bin',
    };
    expect(dropPackagedEnvOverrides(env, true)).toEqual(['FERRY_SQLITE_BINDING', 'FERRY_CHROMIUM', 'FERRY_QEMU', 'FERRY_ROOT']);
    expect(Object.keys(env).sort()).toEqual(['FERRY_DATA_DIR', 'PATH']);
    expect(PACKAGED_IGNORED_ENV).toContain('FERRY_GUEST_DIR');
  });

  it('changes nothing when run from a checkout', () => {
    const env = { FERRY_SQLITE_BINDING: '/repo/.cache/b.node' };
    expect(dropPackagedEnvOverrides(env, false)).toEqual([]);
    expect(env.FERRY_SQLITE_BINDING).toBe('/repo/.cache/b.node');
  });

  it('refuses the remote debugging switches when packaged only', () => {
    const has = (s: string) => s === 'remote-debugging-port';
    expect(forbiddenSwitches(has, true)).toEqual(['remote-debugging-port']);
    expect(forbiddenSwitches(has, false)).toEqual([]);
    expect(forbiddenSwitches(() => false, true)).toEqual([]);
  });
});

// ---- the wiring, with fakes of Electron's objects ----

class FakeEvent {
  prevented = false;
  constructor(readonly url = '') {}
  preventDefault() {
    this.prevented = true;
  }
}

describe('guardWebContents', () => {
  const contents = Object.assign(new EventEmitter(), {
    openHandler: null as null | ((d: { url: string }) => { action: string }),
    setWindowOpenHandler(h: (d: { url: string }) => { action: string }) {
      this.openHandler = h;
    },
  });
  beforeAll(() => guardWebContents(contents as never));

  it('lets the app page through and stops navigation anywhere else', () => {
    for (const [url, stopped] of [
      [`${APP_INDEX_URL}#/history`, false],
      ['https://example.com/', true],
      ['file:///etc/passwd', true],
      ['javascript:alert(1)', true],
      ['data:text/html,x', true],
    ] as const) {
      const e = new FakeEvent();
      contents.emit('will-navigate', e, url);
      expect(e.prevented, url).toBe(stopped);
      const r = new FakeEvent();
      contents.emit('will-redirect', r, url);
      expect(r.prevented, url).toBe(stopped);
      const f = new FakeEvent(url);
      contents.emit('will-frame-navigate', f);
      expect(f.prevented, url).toBe(stopped);
    }
  });

  it('opens no window, not even for https, and attaches no webview', () => {
    expect(contents.openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: APP_INDEX_URL })).toEqual({ action: 'deny' });
    const e = new FakeEvent();
    contents.emit('will-attach-webview', e, {}, {});
    expect(e.prevented).toBe(true);
  });

  it('chooses no Bluetooth device', () => {
    const e = new FakeEvent();
    const callback = vi.fn();
    contents.emit('select-bluetooth-device', e, [{ deviceId: 'd1' }], callback);
    expect(e.prevented).toBe(true);
    expect(callback).toHaveBeenCalledWith('');
  });
});

describe('hardenSession', () => {
  type Handler = (...args: never[]) => unknown;
  const handlers: Record<string, Handler> = {};
  const ses = Object.assign(new EventEmitter(), {
    setPermissionRequestHandler: (h: Handler) => (handlers.request = h),
    setPermissionCheckHandler: (h: Handler) => (handlers.check = h),
    setDevicePermissionHandler: (h: Handler) => (handlers.device = h),
  });
  beforeAll(() => hardenSession(ses as never));

  it('asks the policy for requests and checks', () => {
    const ask = (permission: string, requestingUrl: string) => {
      const cb = vi.fn();
      (handlers.request as (...a: unknown[]) => void)(null, permission, cb, { requestingUrl, isMainFrame: true });
      return cb.mock.calls[0]![0];
    };
    expect(ask('notifications', APP_INDEX_URL)).toBe(true);
    expect(ask('media', APP_INDEX_URL)).toBe(false);
    expect(ask('notifications', 'https://example.com/')).toBe(false);
    const check = handlers.check as (...a: unknown[]) => boolean;
    expect(check(null, 'notifications', 'app://ferry', { isMainFrame: true })).toBe(true);
    expect(check(null, 'geolocation', 'app://ferry', { isMainFrame: true })).toBe(false);
    expect(check(null, 'notifications', 'https://example.com', { isMainFrame: true })).toBe(false);
  });

  it('grants no device and offers none for choosing', () => {
    expect((handlers.device as (d: unknown) => boolean)({ deviceType: 'usb', origin: 'app://ferry' })).toBe(false);
    for (const [event, args, expected] of [
      ['select-hid-device', [{}], [null]],
      ['select-usb-device', [{}], []],
      ['select-serial-port', [[{ portId: 'p' }], null], ['']],
    ] as const) {
      const e = new FakeEvent();
      const cb = vi.fn();
      ses.emit(event, e, ...args, cb);
      expect(e.prevented, event).toBe(true);
      expect(cb, event).toHaveBeenCalledWith(...expected);
    }
  });
});

describe('serveRenderer', () => {
  let dir: string;
  let handle: (req: Request) => Promise<Response>;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-app-'));
    const rendererDir = path.join(dir, 'renderer');
    fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Ferry</title>');
    fs.writeFileSync(path.join(rendererDir, 'assets', 'index-abc.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    const ses = { protocol: { handle: (_scheme: string, h: typeof handle) => (handle = h) } };
    serveRenderer(ses as never, rendererDir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves index.html at the root with its type and the CSP', async () => {
    const res = await handle(new Request('app://ferry/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<title>Ferry</title>');
  });

  it('serves a script as JavaScript', async () => {
    const res = await handle(new Request('app://ferry/assets/index-abc.js'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await res.text()).toBe('console.log(1)');
  });

  it('answers 404 for a file outside, a directory, a missing file; 405 for a POST', async () => {
    // new Request() folds literal ".." away, as Chromium does; the encoded forms arrive as written.
    for (const url of ['app://ferry/%2e%2e/secret.txt', 'app://ferry/..%2fsecret.txt', 'app://ferry/assets', 'app://ferry/missing.js']) {
      const res = await handle(new Request(url));
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain('secret');
    }
    expect((await handle(new Request('app://ferry/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
  });
});

describe('electron-builder.yml fuses', () => {
  it('sets the hardening fuses, with keys the installed electron-builder accepts', () => {
    // electron-builder's own YAML parser, and the schema it validates the config with.
    const { load } = require('js-yaml') as { load: (text: string) => unknown };
    const config = load(fs.readFileSync(path.join(__dirname, '..', '..', 'electron-builder.yml'), 'utf8')) as { asar?: boolean; electronFuses?: Record<string, boolean> };
    const scheme = JSON.parse(fs.readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as {
      definitions: { FuseOptionsV1: { properties: Record<string, { type: string }> } };
    };
    const accepted = scheme.definitions.FuseOptionsV1.properties;
    const fuses = config.electronFuses ?? {};
    for (const [key, value] of Object.entries(fuses)) {
      expect(accepted[key], `electronFuses.${key}`).toBeDefined();
      expect(typeof value, key).toBe(accepted[key]!.type);
    }
    expect(fuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
    expect(config.asar).not.toBe(false);
  });
});
