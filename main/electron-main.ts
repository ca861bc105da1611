// Electron's main process: one window, a sandboxed renderer behind the preload bridge,
// and the same services `ferry serve` and the CLI use.
import { app as electronApp, BrowserWindow, dialog, ipcMain, session, Notification } from 'electron';
import path from 'node:path';
import { CHANNELS, EVENT_NAMES } from '../preload/contract';
import { createApp, type FerryApp } from './app';
import { defaultDataDir } from './data-dir';
import { REPORT_READY_SELECTOR } from '../common/report-ready';
import { claimForConsole, type DataDirLock } from './owner';
import { listenLocalSocket, type LocalSocket } from './server/local-socket';
import { APP_INDEX_URL } from './electron-origin';
import { dropPackagedEnvOverrides, forbiddenSwitches, isTrustedSender } from './electron-policy';
import { guardWebContents, hardenSession, registerAppScheme, serveRenderer } from './electron-harden';

// Before anything reads them: the packaged app loads no module or program the environment names.
for (const name of dropPackagedEnvOverrides(process.env, electronApp.isPackaged)) {
  process.stderr.write(`ferry: ignoring ${name} (the packaged app loads only its own code)\n`);
}
registerAppScheme();
// Every web contents, present and future, gets the navigation, window-open and webview guards.
electronApp.on('web-contents-created', (_e, contents) => guardWebContents(contents));

let ferry: FerryApp | null = null;
/** The data directory is this console's while it runs; the CLI beside it talks over `socket`. */
let lock: DataDirLock | null = null;
let socket: LocalSocket | null = null;
/** The built renderer, served as app://ferry/ (main/electron-origin.ts), never as file://. */
const rendererDir = path.join(__dirname, '..', 'renderer');

/**
 * Every window Ferry opens (the console and the hidden PDF window) is made here, with one set of
 * webPreferences written out in place so the security lint in the tests reads them as they are.
 */
function secureWindow(options: { width?: number; height?: number; title?: string; backgroundColor?: string; show?: boolean }): BrowserWindow {
  return new BrowserWindow({
    ...options,
    webPreferences: {
      // security-reviewed PRELOAD_JS_CHECK: the preload is Ferry's own bundle (preload/preload.ts). It
      // exposes one object through contextBridge, invoke() and on() for the contract's channels and
      // events only; each request is validated again here in the main process. No Node API passes.
      preload: path.join(__dirname, '..', 'preload', 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
      // Middle-click (auxclick) would open links outside the window-open handler's view.
      disableBlinkFeatures: 'Auxclick',
    },
  });
}

function createWindow(): BrowserWindow {
  const win = secureWindow({ width: 1440, height: 900, title: 'Ferry', backgroundColor: '#0f1419' });
  // Navigation, new windows and webviews are refused by guardWebContents (web-contents-created).
  void win.loadURL(APP_INDEX_URL);
  return win;
}

/** history:pdf in the desktop app: the report page in a hidden window, Electron's printToPDF. */
async function printReport(id: string): Promise<Buffer> {
  const win = secureWindow({ show: false });
  try {
    await win.loadURL(`${APP_INDEX_URL}#/report/${encodeURIComponent(id)}`);
    // The report view marks itself ready once it fetched the report over IPC and its charts laid out.
    const ready = `!!document.querySelector(${JSON.stringify(REPORT_READY_SELECTOR)})`;
    for (let i = 0; i < 300 && !(await win.webContents.executeJavaScript(ready)); i++) await new Promise((r) => setTimeout(r, 100));
    return await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4' });
  } finally {
    win.destroy();
  }
}

function registerIpc(app: FerryApp): void {
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, (event, req) => {
      // Only our own page may call: its window's top frame, on app://ferry (not a subframe,
      // not a frame navigated elsewhere or already gone).
      if (!isTrustedSender(event)) {
        return { ok: false, error: { code: 'bad-request', message: 'request from an unknown frame' } };
      }
      return app.router.dispatch(channel, req);
    });
  }
  for (const event of EVENT_NAMES) {
    app.events.on(event, (payload) => {
      for (const w of BrowserWindow.getAllWindows()) w.webContents.send(event, payload);
    });
  }
  app.events.on('migrations:ended', (r) => {
    if (!Notification.isSupported()) return;
    const body = r.outcome === 'completed' ? `downtime ${Math.round(r.downtimeMs ?? 0)} ms` : r.reason;
    new Notification({ title: `${r.vm}: migration ${r.outcome}`, body }).show();
  });
}

void electronApp.whenReady().then(async () => {
  const switches = forbiddenSwitches((s) => electronApp.commandLine.hasSwitch(s), electronApp.isPackaged);
  if (switches.length) {
    dialog.showErrorBox('Ferry cannot start', `Ferry does not run with --${switches.join(', --')} (it would open the console to other programs).`);
    electronApp.exit(1);
    return;
  }
  // The CSP comes with each app:// response (APP_CSP), as do the MIME types.
  serveRenderer(session.defaultSession, rendererDir);
  hardenSession(session.defaultSession);
  const dataDir = path.resolve(process.env.FERRY_DATA_DIR || defaultDataDir());
  try {
    // One owner per data directory: another console is refused, a CLI command waited for.
    lock = await claimForConsole(dataDir, 'Ferry (desktop)', (line) => process.stderr.write(`ferry: ${line}\n`));
    ferry = createApp({ dataDir, host: 'electron' });
    socket = await listenLocalSocket(ferry, lock.owner.socket!);
  } catch (e) {
    dialog.showErrorBox('Ferry cannot start', e instanceof Error ? e.message : String(e));
    await ferry?.close();
    lock?.release();
    electronApp.exit(1);
    return;
  }
  ferry.printer.use(printReport);
  registerIpc(ferry);
  createWindow();
  electronApp.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

electronApp.on('window-all-closed', () => {
  if (process.platform !== 'darwin') electronApp.quit();
});
electronApp.on('will-quit', () => {
  void (async () => {
    await socket?.close();
    await ferry?.close();
    lock?.release();
  })();
});
