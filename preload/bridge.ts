// The contract's runtime that the console itself loads: the channel and event names, the
// error envelope and the API built from a transport. No schema library: the console's
// first screen needs none of it (main validates every request with contract.ts's
// schemas). contract.ts re-exports all of this, typed, and checks when it is compiled that
// these names are exactly those of its schemas and events.
// A leaf module like the contract: it imports nothing.

export const CHANNEL_NAMES = [
  'app:info', 'app:diagnostics',
  'inventory:get', 'inventory:part',
  'migrations:predict', 'migrations:destinations', 'migrations:start', 'migrations:active', 'migrations:cancel', 'migrations:postcopy',
  'history:list', 'history:summary', 'history:report', 'history:pdf',
  'maintenance:plan', 'maintenance:evacuate', 'maintenance:set', 'maintenance:evacuations', 'maintenance:report', 'maintenance:schedule',
  'maintenance:schedules', 'maintenance:unschedule', 'maintenance:homePlan', 'maintenance:bringHome', 'maintenance:pause', 'maintenance:resume',
  'maintenance:cancel', 'maintenance:consolidate', 'maintenance:consolidateApply',
  'hosts:connections', 'hosts:test', 'hosts:add', 'hosts:remove',
  'settings:get', 'settings:set',
  'events:list', 'events:alarms', 'events:ack',
] as const;

export const EVENT_NAMES = [
  'migrations:progress', 'migrations:ended', 'inventory:changed', 'maintenance:evacuation', 'maintenance:schedules', 'settings:changed', 'events:alarm',
] as const;

export const ERROR_CODES = [
  'bad-request',
  'not-found',
  'conflict',
  'unavailable',
  'not-implemented',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Errors cross the boundary deliberately, never as "Error invoking remote method". */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

export class FerryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FerryError';
  }
}

/** What buildApi needs of a transport (contract.ts's Transport, with its names typed). */
export interface BridgeTransport {
  invoke(channel: (typeof CHANNEL_NAMES)[number], req: unknown): Promise<Envelope<unknown>>;
  subscribe(event: (typeof EVENT_NAMES)[number], listener: (payload: unknown) => void): () => void;
}

/**
 * The named API over a transport: `api.migrations.start(req)` invokes 'migrations:start',
 * `api.on(event, fn)` subscribes. The only code that turns channel names into functions;
 * `Api` is contract.ts's FerryApi (makeApi there).
 */
export function buildApi<Api>(transport: BridgeTransport): Api {
  const api: Record<string, unknown> = {};
  for (const channel of CHANNEL_NAMES) {
    const [domain, verb] = channel.split(':') as [string, string];
    const group = (api[domain] ??= {}) as Record<string, unknown>;
    group[verb] = async (req?: unknown) => {
      const env = await transport.invoke(channel, req ?? {});
      if (env.ok) return env.value;
      throw new FerryError(env.error.code, env.error.message);
    };
  }
  api.on = (event: (typeof EVENT_NAMES)[number], listener: (p: unknown) => void) => {
    if (!EVENT_NAMES.includes(event)) throw new FerryError('bad-request', `unknown event ${String(event)}`);
    return transport.subscribe(event, listener);
  };
  return api as Api;
}
