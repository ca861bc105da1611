import { describe, it, expect } from 'vitest';
import { makeApi, FerryError, CHANNELS, requests, type Transport, type Envelope } from '../../preload/contract';
import { Router, type Handlers } from '../../main/router';

// A router whose handlers echo what validation let through: tests the boundary, not services.
function echoRouter(): Router {
  const handlers = Object.fromEntries(CHANNELS.map((c) => [c, (req: unknown) => ({ channel: c, req })])) as unknown as Handlers;
  (handlers as Record<string, unknown>)['history:report'] = () => {
    throw new FerryError('not-found', 'no migration with id x');
  };
  (handlers as Record<string, unknown>)['migrations:cancel'] = () => {
    throw new Error('disk on fire');
  };
  return new Router(handlers);
}

describe('router: validation at the process boundary', () => {
  const router = echoRouter();

  it('refuses unknown channels', async () => {
    const env = await router.dispatch('shell:exec', { cmd: 'rm -rf /' });
    expect(env).toEqual({ ok: false, error: { code: 'bad-request', message: 'unknown channel "shell:exec"' } });
  });

  it('refuses malformed requests with the field at fault', async () => {
    const env = (await router.dispatch('migrations:start', { vms: [], to: 'h1' })) as Extract<Envelope<unknown>, { ok: false }>;
    expect(env.ok).toBe(false);
    expect(env.error.code).toBe('bad-request');
    // In words, without the internal channel name.
    expect(env.error.message).toBe('vms must list at least one');
    const extra = (await router.dispatch('inventory:get', { sql: 'DROP TABLE x' })) as Extract<Envelope<unknown>, { ok: false }>;
    expect(extra.error.code).toBe('bad-request');
    const badPolicy = (await router.dispatch('migrations:predict', { vm: 'a', to: 'b', policy: { downtimeLimitMs: -1 } })) as Extract<Envelope<unknown>, { ok: false }>;
    expect(badPolicy.error.message).toMatch(/^policy.downtimeLimitMs must be at least \d+$/);
    const outcome = (await router.dispatch('history:list', { outcome: 'done' })) as Extract<Envelope<unknown>, { ok: false }>;
    expect(outcome.error.message).toBe('outcome must be one of "completed", "failed", "cancelled", "running", "queued"');
    expect(extra.error.message).toBe('unknown field "sql"');
  });

  it('applies defaults and passes valid requests', async () => {
    const env = await router.dispatch('migrations:start', { vms: ['v1'], to: 'h2' });
    expect(env).toEqual({ ok: true, value: { channel: 'migrations:start', req: { vms: ['v1'], to: 'h2', strategy: 'auto' } } });
  });

  it('turns thrown errors into envelopes with their code', async () => {
    expect(await router.dispatch('history:report', { id: 'x' })).toEqual({ ok: false, error: { code: 'not-found', message: 'no migration with id x' } });
    expect(await router.dispatch('migrations:cancel', { id: 'x' })).toEqual({ ok: false, error: { code: 'internal', message: 'disk on fire' } });
  });
});

describe('makeApi: the named API built from the contract', () => {
  const router = echoRouter();
  const transport: Transport = { invoke: (c, r) => router.dispatch(c, r), subscribe: () => () => {} };
  const api = makeApi(transport);

  it('exposes one function per channel, grouped by domain, and nothing else', () => {
    const names = Object.entries(api)
      .filter(([k]) => k !== 'on')
      .flatMap(([d, g]) => Object.keys(g as object).map((v) => `${d}:${v}`))
      .sort();
    expect(names).toEqual([...CHANNELS].sort());
    expect(Object.keys(requests).sort()).toEqual([...CHANNELS].sort());
  });

  it('rebuilds errors as FerryError with their code', async () => {
    await expect(api.history.report({ id: 'x' })).rejects.toMatchObject({ name: 'FerryError', code: 'not-found' });
    await expect(api.migrations.start({ vms: [], to: 'h' })).rejects.toBeInstanceOf(FerryError);
  });

  it('refuses to subscribe to events outside the contract', () => {
    expect(() => (api.on as (e: string, l: () => void) => void)('ipc:raw', () => {})).toThrow(/unknown event/);
  });
});
