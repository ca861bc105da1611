// Messages of the WebSocket transport used by `ferry serve`. The same contract as the
// preload bridge, framed as JSON: invoke/result pairs by id, and pushed events.
import type { Channel, Envelope, EventName } from './contract';

export type ClientMessage = { type: 'invoke'; id: number; channel: Channel; req: unknown };
export type ServerMessage =
  | { type: 'result'; id: number; envelope: Envelope<unknown> }
  | { type: 'event'; event: EventName; payload: unknown };

/** Largest message the server accepts from a browser, bytes. */
export const MAX_CLIENT_MESSAGE = 256 * 1024;
