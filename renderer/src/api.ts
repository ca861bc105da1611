// The renderer's only door to main: `window.ferry` (Electron preload) or, in a
// browser opened by `ferry serve`, the same contract over a WebSocket.
import { makeApi, type FerryApi } from '../../preload/contract';
import { wsTransport } from './ws-transport';

declare global {
  interface Window {
    ferry?: FerryApi;
  }
}

function browserApi(): FerryApi {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return makeApi(wsTransport(`${proto}//${location.host}/api?token=${encodeURIComponent(token)}`));
}

export const ferry: FerryApi = window.ferry ?? browserApi();
