// Browser-mode transport: the contract over a WebSocket to `ferry serve`.
// The token comes from api.ts (the page URL `ferry serve` printed, then the tab's sessionStorage).
import type { Channel, Envelope, EventName, Transport } from '../../preload/contract';
import type { ClientMessage, ServerMessage } from '../../preload/wire';

/**
 * The contract over a WebSocket; `connect` opens it now (requests open it when they need it).
 * `onReopen`: called when the socket opens again after it closed; the events pushed while it
 * was closed are lost.
 */
export function wsTransport(url: string): Transport & { connect(): Promise<WebSocket>; onReopen(cb: () => void): () => void } {
  let nextId = 1;
  const pending = new Map<number, (e: Envelope<unknown>) => void>();
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const reopened = new Set<() => void>();
  let socket: WebSocket | null = null;
  let opening: Promise<WebSocket> | null = null;
  let openedBefore = false;

  const connect = (): Promise<WebSocket> => {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    opening = new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => {
        socket = ws;
        opening = null;
        resolve(ws);
        if (openedBefore) reopened.forEach((cb) => cb());
        openedBefore = true;
      };
      ws.onerror = () => {
        opening = null;
        // The browser does not tell a refused key from a server that is gone: say both.
        reject(new Error('cannot reach the Ferry server: it is not running, or this page has the key of an earlier start. `ferry open` opens the console with its current key'));
      };
      ws.onclose = () => {
        socket = null;
        for (const [id, done] of pending) {
          done({ ok: false, error: { code: 'unavailable', message: 'connection to the Ferry server closed' } });
          pending.delete(id);
        }
        // Reconnect so that events keep flowing after a server restart.
        if (listeners.size) setTimeout(() => void connect().catch(() => undefined), 1000);
      };
      ws.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data)) as ServerMessage;
        if (msg.type === 'result') {
          pending.get(msg.id)?.(msg.envelope);
          pending.delete(msg.id);
        } else {
          listeners.get(msg.event)?.forEach((l) => l(msg.payload));
        }
      };
    });
    return opening;
  };

  return {
    connect,
    onReopen(cb: () => void) {
      reopened.add(cb);
      return () => {
        reopened.delete(cb);
      };
    },
    async invoke(channel: Channel, req: unknown) {
      let ws: WebSocket;
      try {
        ws = await connect();
      } catch (e) {
        return { ok: false, error: { code: 'unavailable', message: (e as Error).message } };
      }
      const id = nextId++;
      const msg: ClientMessage = { type: 'invoke', id, channel, req };
      return new Promise<Envelope<unknown>>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify(msg));
      });
    },
    subscribe(event: EventName, listener: (p: unknown) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      void connect().catch(() => undefined);
      return () => {
        set.delete(listener);
      };
    },
  };
}
