// The Electron app's security decisions, as pure functions over plain values (so that
// they are unit-tested without Electron): which permissions a page gets, which IPC
// callers are answered, and what the packaged app ignores from its environment and
// command line. main/electron-harden.ts applies them.
import { isAppOrigin, isAppPage } from './electron-origin';

/**
 * The one permission the console's page uses: web notifications (app.tsx shows one when a
 * migration ends while the window is hidden). Only for the app's own top frame; camera,
 * microphone, geolocation, clipboard, MIDI, HID/USB/serial, screen capture, fullscreen,
 * pointer lock, openExternal and all the rest are denied.
 */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['notifications']);

export interface PermissionAsk {
  permission: string;
  /** The URL or origin that asks (details.requestingUrl, or the check's requestingOrigin). */
  requestingUrl: string | null | undefined;
  isMainFrame: boolean;
}

export function allowPermission(ask: PermissionAsk): boolean {
  return ALLOWED_PERMISSIONS.has(ask.permission) && ask.isMainFrame && isAppOrigin(ask.requestingUrl);
}

/** The parts of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  url: string;
  parent: unknown;
  processId: number;
  routingId: number;
}

/** The parts of an IpcMainInvokeEvent the sender check reads. */
export interface IpcEventLike {
  senderFrame: FrameLike | null | undefined;
  sender: { mainFrame: FrameLike };
}

/**
 * Only the console's own page may call the contract: the sender frame is its window's top
 * frame (no parent, and the window's main frame), and it shows the app's page on the app's
 * origin. A subframe, a frame already gone (null), or a page of another origin is refused.
 */
export function isTrustedSender(event: IpcEventLike): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  const top = event.sender.mainFrame;
  const isTop = frame.parent === null && (frame === top || (frame.processId === top.processId && frame.routingId === top.routingId));
  return isTop && isAppPage(frame.url);
}

/**
 * Environment variables that choose code or programs to load: a native module to dlopen
 * (FERRY_SQLITE_BINDING), executables to run (FERRY_CHROMIUM, FERRY_QEMU), a folder whose
 * script is run with bash (FERRY_ROOT) and the kernel and initrd handed to QEMU
 * (FERRY_GUEST_DIR). They exist for development and tests; the packaged (signed) app
 * ignores them, so that no launcher can make it load other code.
 */
export const PACKAGED_IGNORED_ENV = ['FERRY_SQLITE_BINDING', 'FERRY_CHROMIUM', 'FERRY_QEMU', 'FERRY_ROOT', 'FERRY_GUEST_DIR'] as const;

/**
 * In the packaged app, removes PACKAGED_IGNORED_ENV from `env` (before anything reads
 * them) and returns the names it removed; from a checkout (not packaged) it changes nothing.
 */
export function dropPackagedEnvOverrides(env: Record<string, string | undefined>, isPackaged: boolean): string[] {
  if (!isPackaged) return [];
  const dropped: string[] = [];
  for (const name of PACKAGED_IGNORED_ENV) {
    if (env[name] === undefined) continue;
    delete env[name];
    dropped.push(name);
  }
  return dropped;
}

/**
 * Chromium switches that open the renderer (and through it the IPC contract) to another
 * process: the DevTools protocol on a port or a pipe. The packaged app refuses to start
 * with them (Node's --inspect is switched off by the nodeCliInspect fuse).
 */
export const PACKAGED_FORBIDDEN_SWITCHES = ['remote-debugging-port', 'remote-debugging-pipe'] as const;

export function forbiddenSwitches(hasSwitch: (name: string) => boolean, isPackaged: boolean): string[] {
  return isPackaged ? PACKAGED_FORBIDDEN_SWITCHES.filter((s) => hasSwitch(s)) : [];
}
