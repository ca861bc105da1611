// The Electron app's defences, wired: the app:// scheme that serves the renderer, the
// session's permission and device handlers, and the guards every web contents gets. The
// decisions are pure functions in electron-origin.ts and electron-policy.ts (unit-tested).
import fs from 'node:fs';
import { app, protocol, type Session, type WebContents } from 'electron';
import { APP_SCHEME, appHeaders, isAppPage, resolveAppPath } from './electron-origin';
import { allowPermission } from './electron-policy';

/**
 * Before `ready`: app:// is a standard, secure scheme (an origin of its own, a secure
 * context, fetch and module scripts work), and every renderer is sandboxed.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true } },
  ]);
  app.enableSandbox();
}

function refused(status: number): Response {
  return new Response(null, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } });
}

/** app://ferry/<path>: a regular file under `rendererDir`, read only; anything else is 404. */
export function serveRenderer(ses: Session, rendererDir: string): void {
  ses.protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refused(405);
    const file = resolveAppPath(rendererDir, request.url);
    if (!file) return refused(404);
    try {
      if (!(await fs.promises.stat(file)).isFile()) return refused(404);
      const body = request.method === 'HEAD' ? null : await fs.promises.readFile(file);
      return new Response(body, { status: 200, headers: appHeaders(file) });
    } catch {
      return refused(404);
    }
  });
}

/**
 * Permissions: notifications for the app's own top frame, nothing else (checks and
 * requests alike); no HID, USB or serial device is ever granted or offered for choosing.
 */
export function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_wc, permission, callback, details) => {
    callback(allowPermission({ permission, requestingUrl: details.requestingUrl, isMainFrame: details.isMainFrame }));
  });
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin, details) =>
    allowPermission({ permission, requestingUrl: details.requestingUrl ?? requestingOrigin, isMainFrame: details.isMainFrame }),
  );
  ses.setDevicePermissionHandler(() => false);
  ses.on('select-hid-device', (event, _details, callback) => {
    event.preventDefault();
    callback(null);
  });
  ses.on('select-usb-device', (event, _details, callback) => {
    event.preventDefault();
    callback();
  });
  ses.on('select-serial-port', (event, _ports, _wc, callback) => {
    event.preventDefault();
    callback('');
  });
}

/**
 * Applied to every web contents when it is created (the console window, the hidden PDF
 * window, any future one): it navigates only to the app's page, opens no window, attaches
 * no <webview>, and pairs with no Bluetooth device.
 */
export function guardWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppPage(url)) event.preventDefault();
  });
  // Also subframes (the page has none; its CSP says frame-src 'none').
  contents.on('will-frame-navigate', (event) => {
    if (!isAppPage(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppPage(url)) event.preventDefault();
  });
  // The renderer has no external links: no window is opened, nothing is handed to the OS.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.on('select-bluetooth-device', (event, _devices, callback) => {
    event.preventDefault();
    callback('');
  });
}
