// The contract spoken over a message connection: the framing of preload/wire.ts (invoke
// and result by id, pushed events), whatever carries it. `ferry serve` carries it over a
// WebSocket to browsers, a console's local socket carries it to the CLI beside it.
import { EVENT_NAMES } from '../../preload/contract';
import type { ClientMessage, ServerMessage } from '../../preload/wire';
import type { EventBus } from '../events';
import type { Router } from '../router';
import { jsonTooDeep } from '../json-depth';

/** One connection, as its transport sends and closes it. */
export interface PeerLink {
  send(msg: ServerMessage): void;
  /** A message that is not an invoke, or an answer that could not be made: the connection ends. */
  close(why: 'malformed message' | 'internal error'): void;
}

export interface Peer {
  /** One message's text, as the client sent it. */
  receive(text: string): Promise<void>;
  remove(): void;
}

/** Parses a client's message; null when it is not a well-formed invoke. */
export function parseClientMessage(text: string): ClientMessage | null {
  try {
    // Nesting without end is refused before the parse (schemas recurse, the stack does not).
    if (jsonTooDeep(text)) return null;
    const msg = JSON.parse(text) as ClientMessage;
    return msg?.type === 'invoke' && typeof msg.id === 'number' ? msg : null;
  } catch {
    return null;
  }
}

export class Peers {
  private links = new Set<PeerLink>();
  private unsubscribe: (() => void)[];

  constructor(
    private readonly app: { router: Router; events: EventBus },
  ) {
    this.unsubscribe = EVENT_NAMES.map((event) =>
      app.events.on(event, (payload) => {
        for (const l of this.links) l.send({ type: 'event', event, payload });
      }),
    );
  }

  add(link: PeerLink): Peer {
    this.links.add(link);
    return {
      receive: async (text) => {
        const msg = parseClientMessage(text);
        if (!msg) return link.close('malformed message');
        try {
          link.send({ type: 'result', id: msg.id, envelope: await this.app.router.dispatch(msg.channel, msg.req) });
        } catch {
          link.close('internal error');
        }
      },
      remove: () => void this.links.delete(link),
    };
  }

  get size(): number {
    return this.links.size;
  }

  close(): void {
    this.unsubscribe.forEach((u) => u());
    this.links.clear();
  }
}
