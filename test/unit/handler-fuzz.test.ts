// Property-based fuzzing of every API handler through the router, as the Electron IPC and
// `ferry serve` transports call it: malformed and hostile requests on every channel of the
// contract (wrong types, huge strings, deep nesting, __proto__/constructor keys, NaN and
// Infinity, negative and enormous numbers, unicode, arrays where objects go, values only a
// structured clone carries: BigInt, Map, Set, typed arrays, cycles), and random
// valid-looking requests built from each schema's own field names with real VM and host
// names. For every case: dispatch resolves (never throws) to an envelope; an error has a
// code of the contract and a one-line message without a stack trace; the envelope survives
// JSON (the WebSocket's framing); and a refused request leaves the store as it was.
//
// Channels whose valid requests start real work (migrations, evacuations, a PDF print, a
// network connection to a host, a new host or settings that change later decisions) are
// fuzzed with invalid shapes only: a generated request the schema accepts is dropped for
// those (INVALID_ONLY). All other channels also get valid-looking requests; of those,
// READ_ONLY channels must leave the store unchanged even when they accept.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type FerryApp } from '../../main/app';
import { CHANNELS, ERROR_CODES, requests, type Channel, type Envelope } from '../../preload/contract';
import type { Inventory, MigrationRecord } from '../../preload/model';

/** Would start migrations, evacuations, a print, an SSH/TCP connection, or change the settings. */
const INVALID_ONLY = new Set<string>([
  'migrations:start',
  'maintenance:evacuate',
  'maintenance:consolidateApply',
  'maintenance:bringHome',
  'settings:set',
  'hosts:add',
  'hosts:test',
  'history:pdf',
]);
/** Whatever they are asked, these never change the store. */
const READ_ONLY = new Set<string>([
  'app:info',
  'inventory:get',
  'inventory:part',
  'migrations:predict',
  'migrations:destinations',
  'migrations:active',
  'history:list',
  'history:summary',
  'history:report',
  'maintenance:plan',
  'maintenance:evacuations',
  'maintenance:report',
  'maintenance:schedules',
  'maintenance:homePlan',
  'maintenance:consolidate',
  'hosts:connections',
  'settings:get',
  'events:list',
  'events:alarms',
]);

/** Valid requests that cost a solver run each (~0.2 s): this many, then invalid shapes only. */
const VALID_BUDGET: Record<string, number> = { 'maintenance:consolidate': 12 };

const RUNS_PER_CHANNEL = Number(process.env.FUZZ_RUNS ?? 300);
const TABLES = ['migrations', 'audit', 'meta', 'maintenance', 'evacuations', 'schedules'];

let dir: string;
let app: FerryApp;
let names: string[] = [];
let seededId = '';
const stats = { cases: 0, refused: 0, accepted: 0, byCode: {} as Record<string, number>, acceptedBy: {} as Record<string, number>, longestMessage: 0, ms: 0 };

function digest(a: FerryApp): string {
  const parts: string[] = [];
  for (const t of TABLES) {
    const exists = a.store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t);
    if (!exists) continue;
    parts.push(t, JSON.stringify(a.store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()));
  }
  // Any write through the connection (any table, sim placement included) moves this.
  parts.push(String((a.store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n));
  return parts.join('\n');
}

// ---- hostile values ----------------------------------------------------------------------

function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}
function cyclic(): unknown {
  const o: Record<string, unknown> = { id: 'x' };
  o.self = o;
  o.list = [o];
  return o;
}
const PROTO_JSON = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":{"toString":"x"},"id":"m1"}',
  '{"prototype":{"polluted":"yes"}}',
  '{"hasOwnProperty":"x","valueOf":1}',
];
const protoObject = fc.constantFrom(...PROTO_JSON).map((t) => JSON.parse(t) as unknown);
const hugeString = fc
  .tuple(fc.constantFrom('x', 'é', '𝕏', '\u0000', '../', '"\\', '\u202e', '🚢'), fc.integer({ min: 2_000, max: 300_000 }))
  .map(([s, n]) => s.repeat(n));
const weirdNumber = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, -1, -1e300, 1e300, 2 ** 53, 0.1),
  fc.double(),
  fc.integer(),
);
const unicodeString = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', ' ', '\n', '\u0000', '\ud800', 'ﬀ', 'İ', 'a\u0301'));
const cloneOnly = fc.oneof(
  fc.bigInt(),
  fc.constant(null).map(() => new Map([['id', 'x']])),
  fc.constant(null).map(() => new Set(['x'])),
  fc.constant(null).map(() => new Date(NaN)),
  fc.constant(null).map(() => new Uint8Array(16)),
  fc.constant(null).map(() => cyclic()),
  fc.constant(null).map(() => Object.create(null) as unknown),
);
const deep = fc.tuple(fc.integer({ min: 50, max: 5_000 }), fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => nested(d, k));
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false, 0, '', [], {}),
  weirdNumber,
  unicodeString,
  hugeString,
  deep,
  protoObject,
  cloneOnly,
  fc.anything({ maxDepth: 3 }),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
);

/** The schema's own field names, when it is an object schema (zod 4: .shape). */
function fieldsOf(channel: Channel): string[] {
  const shape = (requests[channel] as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

function validLooking(channel: Channel): fc.Arbitrary<unknown> {
  const fields = fieldsOf(channel);
  const word = fc.constantFrom(
    ...names,
    seededId,
    'auto', 'precopy', 'postcopy', 'hybrid', 'stop-and-copy',
    'completed', 'failed', 'queuedAt', 'downtimeMs', 'abort',
    '2026-12-05T02:00:00Z', '2030-01-01T00:00:00+02:00', '1999-01-01T00:00:00Z',
    'SHA256:' + 'A'.repeat(43),
    'm-0', 'e-0', 's-0', 'no-such-thing',
    // Text that a filter might paste into SQL or a LIKE pattern.
    "' OR 1=1 --", '%', '_', '\\', '"; DROP TABLE migrations; --', '%%%_\\%',
  );
  const value: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 4, arbitrary: word },
    { weight: 2, arbitrary: fc.array(word, { minLength: 1, maxLength: 4 }) },
    { weight: 2, arbitrary: fc.oneof(fc.boolean(), fc.integer({ min: -5, max: 2_000 }), fc.double({ min: 0, max: 1 })) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('downtimeLimitMs', 'stallRounds', 'timeoutS', 'bandwidthMiBps', 'autoConverge', 'timeoutAction', 'total', 'perHostIn'), fc.oneof(fc.integer({ min: -1, max: 100_000 }), fc.boolean(), fc.constant(null), word)) },
    { weight: 1, arbitrary: hostile },
  );
  const base = fields.length
    ? fc.uniqueArray(fc.constantFrom(...fields), { maxLength: fields.length }).chain((keys) => fc.tuple(...keys.map(() => value)).map((vals) => Object.fromEntries(keys.map((k, i) => [k, vals[i]]))))
    : fc.constant({} as Record<string, unknown>);
  // Sometimes one extra key: a proto key as its own property, or a near-miss of a field.
  return fc.tuple(base, fc.option(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', ...fields.map((f) => f.toUpperCase())), { nil: undefined, freq: 2 }), value).map(([o, extra, v]) => {
    if (extra !== undefined) Object.defineProperty(o, extra, { value: v, enumerable: true, configurable: true, writable: true });
    return o;
  });
}

let vmIds: string[] = [];
let hostIds: string[] = [];

/** Requests that are often exactly valid: each known field name gets values of its own kind. */
function fieldTyped(channel: Channel): fc.Arbitrary<unknown> {
  const vm = fc.constantFrom(...vmIds, 'no-such-vm');
  const host = fc.constantFrom(...hostIds, 'no-such-host');
  const byField: Record<string, fc.Arbitrary<unknown>> = {
    vm,
    vms: fc.array(vm, { minLength: 1, maxLength: 3 }),
    to: host,
    host,
    hosts: fc.array(host, { minLength: 1, maxLength: 3 }),
    id: fc.constantFrom(seededId, 'm-0', 'e-0', 's-0'),
    name: host,
    on: fc.boolean(),
    at: fc.constantFrom('2030-01-01T00:00:00Z', '2020-01-01T00:00:00Z', new Date(Date.now() + 3_600_000).toISOString()),
    strategy: fc.constantFrom('auto', 'precopy', 'postcopy', 'hybrid', 'stop-and-copy'),
    headroom: fc.double({ min: 0, max: 0.5, noNaN: true }),
    limit: fc.integer({ min: 1, max: 50 }),
    offset: fc.integer({ min: 0, max: 5 }),
    q: fc.constantFrom('', 'migrate', '%', "' OR 1=1 --"),
    text: fc.constantFrom('', 'web', '%', '_'),
    desc: fc.boolean(),
    abortRunning: fc.boolean(),
  };
  const known = fieldsOf(channel).filter((f) => byField[f]);
  return fc.uniqueArray(fc.constantFrom(...(known.length ? known : ['_'])), { maxLength: known.length }).chain((keys) =>
    fc.tuple(...keys.filter((k) => byField[k]).map((k) => byField[k]!)).map((vals) => Object.fromEntries(keys.filter((k) => byField[k]).map((k, i) => [k, vals[i]]))),
  );
}

function requestFor(channel: Channel): fc.Arbitrary<unknown> {
  const schema = requests[channel];
  const any = fc.oneof(
    { weight: 3, arbitrary: hostile },
    { weight: 1, arbitrary: fc.array(hostile, { maxLength: 4 }) }, // an array where an object goes
    { weight: 3, arbitrary: validLooking(channel) },
    { weight: 2, arbitrary: fieldTyped(channel) },
  );
  let budget = INVALID_ONLY.has(channel) ? 0 : (VALID_BUDGET[channel] ?? Infinity);
  if (budget === Infinity) return any;
  return any.filter((r) => {
    let valid: boolean;
    try {
      valid = schema.safeParse(r ?? {}).success;
    } catch {
      return true; // the router must survive what the schema throws on: keep it
    }
    return !valid || budget-- > 0;
  });
}

// ---- the checks --------------------------------------------------------------------------

/** A channel as a label, whatever it is (String() of a deep array overflows the stack). */
const label = (c: unknown) => (typeof c === 'string' ? c.slice(0, 60) : `(${typeof c})`);

async function check(channel: unknown, req: unknown): Promise<Envelope<unknown>> {
  const name = label(channel);
  const before = digest(app);
  let env: Envelope<unknown>;
  const t0 = performance.now();
  try {
    env = await app.router.dispatch(channel, req);
  } catch (e) {
    throw new Error(`dispatch(${name}) threw: ${(e as Error)?.message}`);
  }
  stats.ms += performance.now() - t0;
  stats.cases++;
  expect(env, name).toBeTypeOf('object');
  expect(typeof env.ok).toBe('boolean');
  // The WebSocket sends envelopes as JSON: no BigInt, no cycle, nothing JSON cannot carry.
  expect(() => JSON.stringify(env)).not.toThrow();
  if (!env.ok) {
    stats.refused++;
    stats.byCode[env.error.code] = (stats.byCode[env.error.code] ?? 0) + 1;
    expect(ERROR_CODES).toContain(env.error.code);
    // Hostile input is refused as the caller's fault, never as our own crash.
    expect(env.error.code, `${name}: ${env.error.message}`).not.toBe('internal');
    expect(typeof env.error.message).toBe('string');
    expect(env.error.message.length).toBeGreaterThan(0);
    expect(env.error.message).not.toMatch(/\n\s+at |\bat .*\.(?:ts|js):\d+|node_modules|Maximum call stack/);
    stats.longestMessage = Math.max(stats.longestMessage, env.error.message.length);
    expect(digest(app), `${name} refused but changed the store`).toBe(before);
  } else {
    stats.accepted++;
    stats.acceptedBy[name] = (stats.acceptedBy[name] ?? 0) + 1;
    if (READ_ONLY.has(name)) expect(digest(app), `${name} is read-only but changed the store`).toBe(before);
    // INVALID_ONLY channels never see a request their schema accepts.
    expect(INVALID_ONLY.has(name), `${name} accepted a request the schema refuses`).toBe(false);
  }
  return env;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fuzz-'));
  app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
  const inv = (await app.router.dispatch('inventory:get', {})) as { ok: true; value: Inventory };
  expect(inv.ok).toBe(true);
  const hosts = inv.value.hosts;
  const vms = inv.value.vms;
  expect(hosts.length).toBeGreaterThan(1);
  vmIds = vms.slice(0, 8).map((v) => v.id);
  hostIds = hosts.slice(0, 8).map((h) => h.id);
  names = [...new Set([...hosts.slice(0, 6).flatMap((h) => [h.id, h.name, h.rack ?? h.id]), ...vms.slice(0, 6).flatMap((v) => [v.id, v.name])])].filter(Boolean);
  // One finished migration, so that report, cancel and postcopy also meet an id that exists.
  const vm = vms[0]!;
  const to = hosts.find((h) => h.id !== vm.host && h.cluster === hosts.find((x) => x.id === vm.host)?.cluster)!;
  const started = (await app.router.dispatch('migrations:start', { vms: [vm.id], to: to.id })) as { ok: true; value: MigrationRecord[] };
  expect(started.ok).toBe(true);
  seededId = started.value[0]!.id;
  await app.engine.wait(seededId);
  await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    `handler fuzz: ${stats.cases} cases on ${CHANNELS.length} channels in ${(stats.ms / 1000).toFixed(1)} s of dispatch; ` +
      `${stats.refused} refused (${Object.entries(stats.byCode).map(([c, n]) => `${c} ${n}`).join(', ')}), ${stats.accepted} accepted; ` +
      `longest error message ${stats.longestMessage} characters; accepted by channel: ${Object.entries(stats.acceptedBy).map(([c, n]) => `${c} ${n}`).join(', ')}`,
  );
});

describe('every handler through the router, fuzzed', () => {
  it.each(CHANNELS.map((c) => [c]))('%s', async (channel) => {
    await fc.assert(
      fc.asyncProperty(requestFor(channel), async (req) => {
        await check(channel, req);
      }),
      { numRuns: RUNS_PER_CHANNEL, seed: Number(process.env.FUZZ_SEED ?? 20261203) ^ channel.length },
    );
  });

  it('unknown, hostile and non-string channel names', async () => {
    const channel = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'migrations', 'migrations:', ':start', 'migrations:start ', 'MIGRATIONS:START', 'app:info\u0000', ''),
      unicodeString,
      hostile,
    );
    await fc.assert(
      fc.asyncProperty(channel, hostile, async (c, req) => {
        fc.pre(!(typeof c === 'string' && (CHANNELS as string[]).includes(c)));
        const env = await check(c, req);
        expect(env).toMatchObject({ ok: false, error: { code: 'bad-request' } });
        // Named, not echoed: a 300,000-character or cyclic channel is not copied into the answer
        // (at most 100 characters of it, JSON-escaped).
        expect((env as { error: { message: string } }).error.message.length).toBeLessThan(1000);
      }),
      { numRuns: 500 },
    );
  });

  it('left no prototype polluted and made the cases it promised', () => {
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(typeof probe.toString).toBe('function');
    expect(stats.cases).toBeGreaterThanOrEqual(Math.min(10_000, CHANNELS.length * RUNS_PER_CHANNEL));
    // The store still answers, and the fuzzing started nothing: the seeded migration is the only one.
    expect(app.engine.active()).toEqual([]);
    expect(app.store.listMigrations({}).total).toBe(1);
  });
});
