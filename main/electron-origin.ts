// The desktop app's one origin: the renderer is served from app://ferry/ (a privileged
// custom scheme, never file://), and only files under the built renderer's folder are.
// Pure functions, no Electron: the wiring is in main/electron-harden.ts.
import { contentType } from './content-types';
export { contentType };
import path from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'ferry';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The console's page; its routes live in the hash (#/report/<id>, ...). */
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * The policy the app:// responses carry. Stricter than the page's own <meta> one (which
 * also admits `ferry serve`'s loopback WebSocket): the desktop renderer talks to main only
 * through the preload bridge, so it connects nowhere, frames nothing and is framed by none.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'none'",
  "frame-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers of every file app:// serves. */
export function appHeaders(file: string): Record<string, string> {
  return {
    'content-type': contentType(file),
    'content-security-policy': APP_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

/**
 * One path segment as the renderer's build names files (Vite: `index-B9yNYWZn.js`):
 * letters, digits, `_ - . @ + ~`, not starting with a dot. This refuses `.` and `..`, hidden
 * files, and, once decoded, `/`, `\`, `:` (a drive), `%`, NUL and spaces.
 */
const SEGMENT = /^[\w@+~-][\w.@+~-]*$/;

/**
 * The file an app:// URL names, inside `rootDir`; null when the URL is not the app's
 * origin or its path could leave the folder. The raw URL is read, not a parsed one (a URL
 * parser would fold `..` away): each segment is percent-decoded once and must be a plain
 * name, so `..`, `%2e%2e`, `..%2f`, `%5c`, an empty segment (`//etc`) and an encoded
 * absolute path are all refused. The root is index.html.
 */
export function resolveAppPath(rootDir: string, url: string): string | null {
  const root = path.resolve(rootDir);
  let rest: string;
  if (url === APP_ORIGIN) rest = '';
  else if (url.startsWith(`${APP_ORIGIN}/`)) rest = url.slice(APP_ORIGIN.length + 1);
  else return null;
  const end = rest.search(/[?#]/);
  if (end >= 0) rest = rest.slice(0, end);
  if (rest === '') return path.join(root, 'index.html');
  const parts: string[] = [];
  for (const raw of rest.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null; // a malformed escape
    }
    if (!SEGMENT.test(segment)) return null;
    parts.push(segment);
  }
  const file = path.join(root, ...parts);
  // Belt and braces: whatever the segments were, the result is below the root.
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return file;
}

function parse(url: string | null | undefined): URL | null {
  if (!url) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** Whether a URL (or an origin string) is of the app's origin: app://ferry, no user, no port. */
export function isAppOrigin(url: string | null | undefined): boolean {
  const u = parse(url);
  return !!u && u.protocol === `${APP_SCHEME}:` && u.hostname === APP_HOST && !u.port && !u.username && !u.password;
}

/**
 * Whether a URL is the console's page (any route in its hash): the only place a window may
 * navigate to, and the only page whose top frame may call the IPC contract.
 */
export function isAppPage(url: string | null | undefined): boolean {
  if (!isAppOrigin(url)) return false;
  const { pathname } = new URL(url!);
  return pathname === '/' || pathname === '/index.html';
}
