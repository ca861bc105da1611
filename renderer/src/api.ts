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
 */
function serveToken(): string {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem('ferry-token', fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem('ferry-token') ?? '';
}

function browserApi(): FerryApi {
  const token = serveToken();
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return buildApi<FerryApi>(wsTransport(`${proto}//${location.host}/api?token=${encodeURIComponent(token)}`));
}

export const ferry: FerryApi = window.ferry ?? browserApi();
