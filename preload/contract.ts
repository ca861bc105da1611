// The one typed contract between the console's UI and its main-process services.
// Main implements it (main/handlers), the preload forwards it over IPC, `ferry serve`
// forwards it over a WebSocket, and the renderer sees only `window.ferry` built from it.
// A leaf module: it must never import from Electron or from main/.
import { z } from 'zod';
import {
  STRATEGIES,
  policyOverrides,
  strategyChoice,
  type DriverInfo,
  type HostConnection,
  type HostTestResult,
  hostAddRequest,
  settingsPatch,
  type Settings,
  type ConsolidationPlan,
  type EvacuationPlan,
  type EvacuationReport,
  type EvacuationStatus,
  type Schedule,
  type Inventory,
  type Host,
  type Vm,
  type MigrationRecord,
  type PredictResult,
  type Progress,
  type RoundSample,
  type Outcome,
  type Strategy,
  type Alarm,
  type AlarmList,
  type LogPage,
} from './model';
import { MAX_PART_HOSTS, type InventoryColumns, type InventoryPart } from './inventory-part';
import { buildApi, CHANNEL_NAMES, EVENT_NAMES as BRIDGE_EVENT_NAMES, ERROR_CODES, FerryError, type Envelope, type ErrorCode } from './bridge';

export { ERROR_CODES, FerryError, type Envelope, type ErrorCode };

const id = z.string().min(1).max(200);
const empty = z.object({}).strict();
const consolidateRequest = z
  .object({
    /** Share of each host's memory kept free, 0 to 0.5. */
    headroom: z.number().min(0).max(0.5).optional(),
    /** Watts a freed host saves; default an estimate from its size. */
    wattsPerHost: z.number().min(1).max(20_000).optional(),
  })
  .strict();

export const historyFilter = z
  .object({
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    vm: z.string().max(200).optional(),
    host: z.string().max(200).optional(),
    cluster: z.string().max(200).optional(),
    strategy: z.enum(STRATEGIES).optional(),
    outcome: z.enum(['completed', 'failed', 'cancelled', 'running', 'queued']).optional(),
    minDowntimeMs: z.number().min(0).optional(),
    text: z.string().max(200).optional(),
    sort: z.enum(['queuedAt', 'downtimeMs', 'totalMs', 'bytes', 'vm']).optional(),
    desc: z.boolean().optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    offset: z.number().int().min(0).optional(),
  })
  .strict();
export type HistoryFilter = z.infer<typeof historyFilter>;

/** Request schemas: main parses every request with these before a service sees it. */
export const requests = {
  'app:info': empty,
  /** The process's health: event listeners per event, memory, migrations in flight (for soak runs). */
  'app:diagnostics': empty,
  'inventory:get': empty,
  /** Hosts [from, from + count) in the inventory's order with their VMs, in columns (see inventory-part.ts). */
  'inventory:part': z
    .object({ from: z.number().int().min(0).max(1_000_000), count: z.number().int().min(1).max(MAX_PART_HOSTS) })
    .strict(),
  'migrations:predict': z
    .object({ vm: id, to: id, strategy: strategyChoice.optional(), policy: policyOverrides.optional() })
    .strict(),
  'migrations:destinations': z.object({ vm: id }).strict(),
  'migrations:start': z
    .object({
      vms: z.array(id).min(1).max(1000),
      to: id,
      strategy: strategyChoice.default('auto'),
      policy: policyOverrides.optional(),
    })
    .strict(),
  'migrations:active': empty,
  'migrations:cancel': z.object({ id }).strict(),
  'migrations:postcopy': z.object({ id }).strict(),
  'history:list': historyFilter,
  'history:summary': historyFilter,
  'history:report': z.object({ id }).strict(),
  'history:pdf': z.object({ id }).strict(),
  /** Hosts by id or name, or racks by name: the hosts to empty. */
  'maintenance:plan': z.object({ hosts: z.array(id).min(1).max(2500) }).strict(),
  'maintenance:evacuate': z.object({ hosts: z.array(id).min(1).max(2500) }).strict(),
  'maintenance:set': z.object({ host: id, on: z.boolean() }).strict(),
  'maintenance:evacuations': empty,
  /** One evacuation's report. */
  'maintenance:report': z.object({ id }).strict(),
  /** An evacuation set for a time (ISO, with its offset). */
  'maintenance:schedule': z.object({ hosts: z.array(id).min(1).max(2500), at: z.iso.datetime({ offset: true }) }).strict(),
  'maintenance:schedules': empty,
  'maintenance:unschedule': z.object({ id }).strict(),
  /** The plan that brings a host's evacuated VMs back, checked against its room now. */
  'maintenance:homePlan': z.object({ host: id }).strict(),
  /** Leave maintenance and run that plan. */
  'maintenance:bringHome': z.object({ host: id }).strict(),
  /** A running evacuation: its queued moves wait in place; running ones go on. */
  'maintenance:pause': z.object({ id }).strict(),
  'maintenance:resume': z.object({ id }).strict(),
  /** Moves not started stay put; running ones finish, or are aborted with abortRunning. */
  'maintenance:cancel': z.object({ id, abortRunning: z.boolean().optional() }).strict(),
  /** Free as many hosts as possible keeping `headroom` of each host's memory free (default 10 %). */
  'maintenance:consolidate': consolidateRequest,
  /** Run it: one evacuation of the hosts it frees. */
  'maintenance:consolidateApply': consolidateRequest,
  'hosts:connections': empty,
  'hosts:test': z.object({ uri: z.string().min(1).max(2000), acceptHostKey: hostAddRequest.shape.acceptHostKey }).strict(),
  'hosts:add': hostAddRequest,
  'hosts:remove': z.object({ name: id }).strict(),
  'settings:get': empty,
  /** Any subset of the settings; the rest stay as they are. */
  'settings:set': settingsPatch,
  /** The events log (audit rows and the engine's migrations), newest first; `before` is a page's `next`. */
  'events:list': z
    .object({ q: z.string().max(200).optional(), limit: z.number().int().min(1).max(500).default(100), before: z.string().min(3).max(120).optional() })
    .strict(),
  'events:alarms': empty,
  'events:ack': z.object({ id }).strict(),
} as const;

export type Channel = keyof typeof requests;
export type Req<C extends Channel> = z.input<(typeof requests)[C]>;
export type ParsedReq<C extends Channel> = z.output<(typeof requests)[C]>;

export interface Diagnostics {
  eventListeners: Partial<Record<EventName, number>>;
  rssBytes: number;
  heapUsedBytes: number;
  activeMigrations: number;
}

export interface AppInfo {
  version: string;
  host: 'electron' | 'browser';
  dataDir: string;
  drivers: DriverInfo[];
  clock: string;
}

/** A destination as seen while a VM is being dragged. */
export interface Destination {
  host: string;
  fit: PredictResult['fit'];
  strategy: Strategy;
  converges: boolean;
  downtimeMs: number;
  totalMs: number;
  /** green: pre-copy converges within the limit; amber: only with post-copy/hybrid or slow; red: cannot. */
  verdict: 'green' | 'amber' | 'red';
  reason: string;
  /** Near the cliff: the share of the dirty rate's band in which pre-copy converges. */
  precopyOdds?: number;
}

export interface HistoryPage {
  rows: MigrationRecord[];
  total: number;
}

export interface HistorySummary {
  count: number;
  byOutcome: Record<Outcome, number>;
  successRate: number;
  downtimeP50: number | null;
  downtimeP95: number | null;
  downtimeP99: number | null;
  totalBytes: number;
  /**
   * Percentiles are nearest-rank (the value at rank ceil(p/100 * n)). False: computed from
   * the matching rows, exact. True: from the daily rollup histograms, within ±resolutionPct.
   */
  approximate: boolean;
  /** How close an approximate percentile is, in ± % of its value; null when exact. */
  resolutionPct: number | null;
  /** Downtime histogram: bucket upper bound (ms) and count. */
  downtimeHistogram: { leMs: number; count: number }[];
  /** Per day: count and p95 downtime. */
  overTime: { day: string; count: number; downtimeP95: number | null }[];
  byStrategy: { strategy: string; count: number; downtimeP50: number | null; totalMsP50: number | null }[];
  byHost: { host: string; count: number; downtimeP50: number | null }[];
  predictedVsActual: { id: string; predictedMs: number; actualMs: number; strategy: string }[];
  /** Per day, the median |predicted - actual| / actual of total time (latest 5,000 completed): it should fall as Ferry learns. */
  errorOverTime: { day: string; count: number; medianErrorPct: number }[];
}

export interface Report {
  record: MigrationRecord;
  rounds: RoundSample[];
}

export interface Responses {
  'app:info': AppInfo;
  'app:diagnostics': Diagnostics;
  'inventory:get': Inventory;
  'inventory:part': InventoryPart;
  'migrations:predict': PredictResult;
  'migrations:destinations': Destination[];
  'migrations:start': MigrationRecord[];
  'migrations:active': Progress[];
  'migrations:cancel': MigrationRecord;
  'migrations:postcopy': Progress;
  'history:list': HistoryPage;
  'history:summary': HistorySummary;
  'history:report': Report;
  /** The report printed to PDF by the host (Electron's printToPDF, or headless Chromium). */
  'history:pdf': { fileName: string; base64: string };
  'maintenance:plan': EvacuationPlan;
  'maintenance:evacuate': EvacuationStatus;
  'maintenance:set': Host;
  'maintenance:evacuations': EvacuationStatus[];
  'maintenance:report': EvacuationReport;
  'maintenance:schedule': Schedule;
  'maintenance:schedules': Schedule[];
  'maintenance:unschedule': Schedule;
  'maintenance:homePlan': EvacuationPlan;
  'maintenance:bringHome': EvacuationStatus;
  'maintenance:pause': EvacuationStatus;
  'maintenance:resume': EvacuationStatus;
  'maintenance:cancel': EvacuationStatus;
  'maintenance:consolidate': ConsolidationPlan;
  'maintenance:consolidateApply': EvacuationStatus;
  'hosts:connections': HostConnection[];
  'hosts:test': HostTestResult;
  'hosts:add': HostConnection;
  'hosts:remove': { removed: string };
  'settings:get': Settings;
  'settings:set': Settings;
  'events:list': LogPage;
  'events:alarms': AlarmList;
  'events:ack': Alarm;
}
export type Res<C extends Channel> = Responses[C];

/** Events pushed from main. Progress is batched: one event carries many migrations. */
export interface Events {
  'migrations:progress': Progress[];
  'migrations:ended': MigrationRecord;
  /**
   * With `changed`: the hosts and VMs that changed after version `since` (the previous
   * event's), in columns (decodeColumns), to patch in place; without: refetch. A console
   * whose inventory is older than `since` missed an event and reads the inventory again.
   */
  'inventory:changed': { version: number; since: number; changed?: InventoryColumns };
  /** An evacuation started, moved on or ended. */
  'maintenance:evacuation': EvacuationStatus;
  /** A schedule was set, cancelled, ran or was missed: the whole list. */
  'maintenance:schedules': Schedule[];
  /** The settings changed (from any window or the CLI beside this console). */
  'settings:changed': Settings;
  /** An alarm was raised (ackedAt null) or acknowledged. */
  'events:alarm': Alarm;
}
export type EventName = keyof Events;

export const EVENT_NAMES: EventName[] = [...BRIDGE_EVENT_NAMES];
export const CHANNELS: Channel[] = [...CHANNEL_NAMES];

// bridge.ts's names are exactly the channels with a schema and the events above: where they
// differ, one of these does not compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const bridgeAgrees: [Same<(typeof CHANNEL_NAMES)[number], Channel>, Same<(typeof BRIDGE_EVENT_NAMES)[number], EventName>] = [true, true];

/** The transport a host environment provides: Electron IPC, a WebSocket, or direct calls in tests. */
export interface Transport {
  invoke(channel: Channel, req: unknown): Promise<Envelope<unknown>>;
  subscribe(event: EventName, listener: (payload: unknown) => void): () => void;
}

type Verb<C extends string> = C extends `${string}:${infer V}` ? V : never;
type Domain<C extends string> = C extends `${infer D}:${string}` ? D : never;

/** window.ferry: `ferry.migrations.start({...})`, `ferry.on('migrations:progress', fn)`. */
export type FerryApi = {
  [D in Domain<Channel>]: {
    [C in Channel as C extends `${D}:${string}` ? Verb<C> : never]: (
      ...args: {} extends Req<C> ? [req?: Req<C>] : [req: Req<C>]
    ) => Promise<Res<C>>;
  };
} & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

/** Builds the named API from a transport (bridge.ts's buildApi, which the console calls the same way). */
export function makeApi(transport: Transport): FerryApi {
  return buildApi<FerryApi>(transport);
}

export type { Host, Vm, InventoryPart };
