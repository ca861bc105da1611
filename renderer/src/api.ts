// The renderer's only door to main: `window.ferry` (Electron preload) or, in a
// browser opened by `ferry serve`, the same contract over a WebSocket.
// The API is built by bridge.ts, not contract.ts: the same code without the request schemas
// (main validates; the console loads faster without them).
import { buildApi } from '../../preload/bridge';
import type { FerryApi } from '../../preload/contract';
import { wsTransport } from './ws-transport';

declare global {
  interface Window {
    ferry?: FerryApi;
  }
}

/**
 * `ferry serve` hands the token in the address once; the tab keeps it in sessionStorage
 * (never a cookie, which every local server would receive) and the address bar drops it.
 * The socket is opened first: the first inventory request waits for it, and the handshake
 * goes on while the token is stored and the address replaced.
 */
function browserTransport(): { transport: ReturnType<typeof wsTransport>; opened: Promise<WebSocket> } {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  const token = fromUrl ?? sessionStorage.getItem('ferry-token') ?? '';
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const transport = wsTransport(`${proto}//${location.host}/api?token=${encodeURIComponent(token)}`);
  const opened = transport.connect();
  if (fromUrl) {
    sessionStorage.setItem('ferry-token', fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }
  return { transport, opened };
}

const browser = window.ferry ? null : browserTransport();

export const ferry: FerryApi = window.ferry ?? buildApi<FerryApi>(browser!.transport);

/**
 * Settles once a request goes out the moment it is made: at once under Electron, when the
 * WebSocket is open (or has failed) in a browser.
 */
export const connected: Promise<void> = browser
  ? browser.opened.then(
      () => undefined,
      () => undefined,
    )
  : Promise.resolve();

/**
 * Calls `cb` when the console's connection comes back after it dropped (a browser's
 * WebSocket; Electron's IPC does not drop): what was pushed meanwhile never arrived.
 */
export function onReconnect(cb: () => void): () => void {
  return browser ? browser.transport.onReopen(cb) : () => undefined;
}
