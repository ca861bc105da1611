// Validates every request against the contract's schema and turns every outcome into
// the error envelope. Both transports (Electron IPC and the WebSocket) call `dispatch`.
import { issueText } from './issue-words';
import { FerryError, requests, CHANNELS, type Channel, type Envelope, type ParsedReq, type Res } from '../preload/contract';

export type Handler<C extends Channel> = (req: ParsedReq<C>) => Res<C> | Promise<Res<C>>;
export type Handlers = { [C in Channel]: Handler<C> };

/** A refused channel in words: a string quoted (cut at 100 characters), anything else by its type (never stringified: it may be cyclic, a BigInt or nested without end). */
function channelText(c: unknown): string {
  if (typeof c === 'string') return JSON.stringify(c.length > 100 ? `${c.slice(0, 100)}…` : c);
  return `of type ${c === null ? 'null' : Array.isArray(c) ? 'array' : typeof c}`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Router {
  constructor(private readonly handlers: Handlers) {}

  async dispatch(channel: unknown, raw: unknown): Promise<Envelope<unknown>> {
    if (typeof channel !== 'string' || !(CHANNELS as string[]).includes(channel)) {
      return { ok: false, error: { code: 'bad-request', message: `unknown channel ${channelText(channel)}` } };
    }
    const c = channel as Channel;
    const parsed = requests[c].safeParse(raw ?? {});
    if (!parsed.success) {
      return { ok: false, error: { code: 'bad-request', message: issueText(parsed.error.issues[0]!) } };
    }
    try {
      const handler = this.handlers[c] as (r: unknown) => unknown;
      return { ok: true, value: await handler(parsed.data) };
    } catch (e) {
      if (e instanceof FerryError) return { ok: false, error: { code: e.code, message: e.message } };
      // Unexpected: keep the message (it is ours, never a secret) but mark it internal.
      return { ok: false, error: { code: 'internal', message: errorMessage(e) } };
    }
  }
}
