// Domain model shared by main, preload and renderer. A leaf module: it imports
// nothing but zod, so the renderer bundle and the sandboxed preload can use it.
import { z } from 'zod';

export const STRATEGIES = ['stop-and-copy', 'precopy', 'postcopy', 'hybrid'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const strategyChoice = z.enum(['auto', ...STRATEGIES]);
export type StrategyChoice = z.infer<typeof strategyChoice>;

/** A host driver's name ('sim', 'qemu', ...): the drivers registered in main/drivers.ts. */
export type DriverKind = string;

/** A driver's hosts, as the console shows them: reachable or not, and why. */
export interface DriverHealth {
  state: 'ok' | 'degraded' | 'unreachable' | 'empty';
  hosts: number;
  hostsUp: number;
  /** One line: "20 hosts, all up", "no QEMU lab is up (ferry lab up)". */
  detail: string;
}

/** A registered driver and its health (app:info). */
export interface DriverInfo extends DriverHealth {
  kind: DriverKind;
  label: string;
}

/** One host connection a driver keeps (libvirt hosts added by URI), as the Hosts view shows it. */
export interface HostConnection {
  name: string;
  uri: string;
  driver: DriverKind;
  state: 'connecting' | 'up' | 'down';
  /** Why it is down, in words; null when up. */
  error: string | null;
  /** "libvirt 9.0.0, QEMU 7.2.22" once connected. */
  versions: string | null;
  /** How it authenticated: "SSH key ~/.ssh/id_ed25519 as root, host key SHA256:...". */
  auth: string | null;
  /** When the next attempt is, while down (epoch ms). */
  retryAt: number | null;
}

/** What `ferry hosts test <uri>` found. */
export interface HostTestResult {
  uri: string;
  reachable: boolean;
  error: string | null;
  auth: string | null;
  hostname: string | null;
  libvirtVersion: string | null;
  hypervisorVersion: string | null;
  cpus: number | null;
  memoryMiB: number | null;
  runningDomains: number | null;
  /** The SSH host key seen, for the user to compare and accept. */
  hostKey: { type: string; fingerprint: string } | null;
  /** True when only an unknown SSH host key stood in the way (accept it to go on). */
  hostKeyUnknown: boolean;
}

export const hostAddRequest = z
  .object({
    uri: z.string().min(1).max(2000),
    name: z.string().min(1).max(63).optional(),
    /** How the other hosts' daemons reach this one (default: derived from uri). */
    peerUri: z.string().min(1).max(2000).optional(),
    nicMiBps: z.number().positive().max(1_000_000).optional(),
    rack: z.string().min(1).max(64).optional(),
    /** An SSH host key fingerprint the user compared and accepts ("SHA256:..."). */
    acceptHostKey: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a host key fingerprint looks like SHA256: and 43 characters').optional(),
  })
  .strict();
export type HostAddRequest = z.infer<typeof hostAddRequest>;

export interface Cluster {
  id: string;
  name: string;
}

export interface HostUsage {
  cpuPct: number;
  memUsedMiB: number;
  nicOutMiBps: number;
  nicInMiBps: number;
}

export interface Host {
  id: string;
  name: string;
  cluster: string;
  rack: string;
  driver: DriverKind;
  cores: number;
  memoryMiB: number;
  nicMiBps: number;
  maintenance: boolean;
  state: 'up' | 'down';
  usage: HostUsage;
}

export interface Workload {
  /** Fraction of guest memory that is zero pages (cheap to send). */
  zeroFraction: number;
  /** Writable working set, MiB. */
  wssMiB: number;
  /** Write rate inside the writable working set, MiB/s. */
  dirtyMiBps: number;
  /** Read working set (post-copy faults come from here), MiB. */
  readWssMiB: number;
  /** Page accesses per second over the read working set, MiB/s. */
  readMiBps: number;
  /** The lowest and highest dirty rate the driver measured lately, MiB/s, when it measured more than once. */
  dirtyRangeMiBps?: [number, number];
  /**
   * Guest memory the source process has mapped (its page table holds the page, in RAM or as
   * the shared zero page), MiB, when the driver can tell. The rest was never touched there:
   * the first pass of a migration faults each such page in just to find it zero (several
   * times slower than sending it, on QEMU). A freshly booted guest has most of its memory
   * unmapped; one that arrived by migration has all of it mapped.
   */
  residentMiB?: number;
  /**
   * How the guest's writes fall in its working set, when the driver knows: at random pages
   * (the default, and the assumption when unknown), sweeping it in order (every write a page
   * not written since the sweep last passed, as a log or a scan does), or skewed (80 % of the
   * writes into a fifth of the working set). It sets how many distinct pages a pass leaves dirty.
   */
  writePattern?: WritePattern;
}

export type WritePattern = 'random' | 'sweep' | 'skewed';
/** Skewed writes: this share of them lands in SKEW_HOT_SHARE of the working set. */
export const SKEW_WRITE_SHARE = 0.8;
export const SKEW_HOT_SHARE = 0.2;

export type VmState = 'running' | 'migrating' | 'paused' | 'stopped' | 'lost';

export interface Vm {
  id: string;
  name: string;
  host: string;
  memoryMiB: number;
  vcpus: number;
  state: VmState;
  cpuPct: number;
  antiAffinity: string | null;
  workload: Workload;
}

export interface Inventory {
  clusters: Cluster[];
  hosts: Host[];
  vms: Vm[];
  /** Increases with every placement or state change. */
  version: number;
}

export const TIMEOUT_ACTIONS = ['abort', 'postcopy', 'throttle'] as const;

/**
 * The numeric policy fields' bounds, the one definition the request schema, the migrate
 * dialog and the CLI's flags all check against. `min` is exclusive where `minExclusive`.
 */
export const POLICY_BOUNDS = {
  /** Longest acceptable pause at switchover (QEMU's default: 300 ms). */
  downtimeLimitMs: { label: 'Downtime limit', unit: 'ms', min: 1, max: 60_000, integer: true, minExclusive: false },
  /** Cap on the migration stream, MiB/s; null: as fast as the link allows. */
  bandwidthMiBps: { label: 'Bandwidth cap', unit: 'MiB/s', min: 0, max: 1_000_000, integer: false, minExclusive: true },
  /** Pre-copy has stalled when remaining dirty memory has not shrunk for this many rounds. */
  stallRounds: { label: 'Stall rounds', unit: 'rounds', min: 1, max: 100, integer: true, minExclusive: false },
  /** Give up, switch to post-copy or throttle after this long. */
  timeoutS: { label: 'Timeout', unit: 's', min: 0, max: 86_400, integer: false, minExclusive: true },
} as const;
export type PolicyNumberField = keyof typeof POLICY_BOUNDS;

function bounded(f: PolicyNumberField) {
  const b = POLICY_BOUNDS[f];
  let n = b.integer ? z.number().int() : z.number();
  n = b.minExclusive ? n.gt(b.min) : n.min(b.min);
  return n.max(b.max);
}

/** What a field accepts, in words: "a whole number of ms from 1 to 60000". */
export function policyBoundsText(f: PolicyNumberField): string {
  const b = POLICY_BOUNDS[f];
  const kind = b.integer ? 'a whole number of' : 'a number of';
  return b.minExclusive ? `${kind} ${b.unit} above ${b.min} and at most ${b.max}` : `${kind} ${b.unit} from ${b.min} to ${b.max}`;
}

/**
 * Parses a typed value of a policy field: the number, or why it is not acceptable, naming
 * the field as the person typed it (the dialog's label, or the CLI's flag).
 */
export function parsePolicyField(f: PolicyNumberField, text: string, name: string = POLICY_BOUNDS[f].label): { value: number } | { error: string } {
  const v = Number(text.trim());
  const ok = text.trim() !== '' && bounded(f).safeParse(v).success;
  return ok ? { value: v } : { error: `${name} must be ${policyBoundsText(f)}, not "${text}"` };
}

export const policySchema = z
  .object({
    downtimeLimitMs: bounded('downtimeLimitMs'),
    bandwidthMiBps: bounded('bandwidthMiBps').nullable(),
    stallRounds: bounded('stallRounds'),
    timeoutS: bounded('timeoutS'),
    timeoutAction: z.enum(TIMEOUT_ACTIONS),
    /** Progressive vCPU throttling when pre-copy stalls. */
    autoConverge: z.boolean(),
    /** Slow the guest after a post-copy switch so faults do not outrun the link. */
    postcopyFaultThrottle: z.boolean(),
    /**
     * Auto takes post-copy (or hybrid) whenever it is predicted faster within the downtime
     * limit, not only when pre-copy cannot do it in reasonable time. Off by default: a VM in
     * post-copy is lost if its link dies, which is why datacenters keep pre-copy first.
     */
    preferSpeed: z.boolean(),
  })
  .strict();
export type Policy = z.infer<typeof policySchema>;
export const policyOverrides = policySchema.partial();
export type PolicyOverrides = z.infer<typeof policyOverrides>;

export const DEFAULT_POLICY: Policy = {
  downtimeLimitMs: 300,
  bandwidthMiBps: null,
  stallRounds: 3,
  timeoutS: 600,
  timeoutAction: 'abort',
  autoConverge: false,
  postcopyFaultThrottle: true,
  preferSpeed: false,
};

/**
 * The settings that apply to new work: the default migration policy, the concurrency
 * limits, and maintenance defaults. Stored in the data directory, validated, audited.
 */
export const settingsSchema = z
  .object({
    /** The policy a migration gets unless it asks otherwise. */
    policy: policySchema,
    /** Migrations at once: out of one host, into one host, and in all. */
    limits: z
      .object({
        perHostOut: z.number().int().min(1).max(16),
        perHostIn: z.number().int().min(1).max(16),
        total: z.number().int().min(1).max(256),
      })
      .strict(),
    /** Share of a destination's memory an evacuation or consolidation keeps free, %. */
    headroomPct: z.number().min(0).max(50),
    /** A schedule that came due while no console ran still runs this many minutes late. */
    scheduleGraceMin: z.number().int().min(0).max(1440),
    /** What a host switched off saves, W; null: estimated from each host's size. */
    wattsPerHost: z.number().min(1).max(20_000).nullable(),
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;

/** A change to some settings: any subset, each section partly. */
export const settingsPatch = z
  .object({
    policy: policySchema.partial().strict().optional(),
    limits: settingsSchema.shape.limits.partial().strict().optional(),
    headroomPct: settingsSchema.shape.headroomPct.optional(),
    scheduleGraceMin: settingsSchema.shape.scheduleGraceMin.optional(),
    wattsPerHost: settingsSchema.shape.wattsPerHost.optional(),
  })
  .strict();
export type SettingsPatch = z.infer<typeof settingsPatch>;

/** What the model expects of one strategy for one VM on one link. */
export interface Prediction {
  strategy: Strategy;
  converges: boolean;
  rounds: number;
  totalMs: number;
  downtimeMs: number;
  bytes: number;
  bandwidthMiBps: number;
  dirtyMiBps: number;
  /** Post-copy only: expected page faults per second right after the switch. */
  faultRate?: number;
  /** Post-copy only: faults per second the link can serve. */
  faultServiceRate?: number;
  stormRisk?: 'low' | 'high';
  /** Why it does or does not converge, in words. */
  note: string;
  /** The model's first pre-copy pass: the bytes it sends, and the dirty bytes left after it (what the rest of the migration grows from). */
  firstPass?: { bytes: number; backlogBytes: number };
  /** Of totalMs, the time before the first page moves (the destination's start, the hypervisor's setup), ms; absent when the driver's calibration has none. */
  setupMs?: number;
  /** The model's own figures, before what the link's history taught (present once refined). */
  model?: { totalMs: number; downtimeMs: number };
  /** How sure: the figures across the spread of past errors on this link and of the dirty rate. */
  range?: { totalMs: [number, number]; downtimeMs: [number, number] };
  /** Near the cliff: the share of the dirty-rate band in which it converges, 0 to 1. */
  convergeOdds?: number;
  /** What the figure stands on, in words ("calibrated on 37 precopy migrations over this link ..."). */
  basis?: string;
}

export interface Fit {
  ok: boolean;
  /** Why the destination cannot take the VM, when it cannot. */
  reason: string | null;
  freeMemMiB: number;
  freeCores: number;
}

export interface PredictResult {
  vm: string;
  from: string;
  to: string;
  fit: Fit;
  auto: { strategy: Strategy; reason: string };
  /** The prediction for the strategy that would be used (auto's pick unless one was asked for). */
  predicted: Prediction;
  byStrategy: Record<Strategy, Prediction>;
}

export type Outcome = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type Phase = 'queued' | 'setup' | 'precopy' | 'postcopy' | 'switchover' | 'done';

/** What every progress report carries: a driver's sample, a recorded round, live progress. */
export interface SampleFigures {
  phase: Phase;
  /** Completed dirty-sync passes (pre-copy rounds). */
  round: number;
  remainingBytes: number;
  transferredBytes: number;
  dirtyMiBps: number;
  bandwidthMiBps: number;
  /** remaining / bandwidth: the pause a switchover now would cost. */
  expectedDowntimeMs: number;
  throttlePct: number;
}

/** One recorded round (or, in post-copy, one sample per interval). */
export interface RoundSample extends SampleFigures {
  /** Milliseconds since the migration started. */
  t: number;
  faults?: number;
}

export interface MigrationEvent {
  t: number;
  text: string;
}

export interface MigrationRecord {
  id: string;
  vm: string;
  vmId: string;
  from: string;
  to: string;
  fromId: string;
  toId: string;
  cluster: string;
  driver: DriverKind;
  startedBy: string;
  requestedStrategy: StrategyChoice;
  /** The strategy used (for hybrid that switched, still 'hybrid'). */
  strategy: Strategy;
  /** Why that strategy, or why it failed. */
  reason: string;
  policy: Policy;
  predicted: Pick<Prediction, 'converges' | 'downtimeMs' | 'totalMs' | 'setupMs' | 'firstPass' | 'bytes' | 'rounds' | 'model' | 'range' | 'convergeOdds' | 'basis'>;
  outcome: Outcome;
  phase: Phase;
  downtimeMs: number | null;
  totalMs: number | null;
  bytes: number;
  rounds: number;
  postcopyFaults: number | null;
  queuedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  events: MigrationEvent[];
}

export interface Progress extends SampleFigures {
  id: string;
  vm: string;
  from: string;
  to: string;
  strategy: Strategy;
  etaMs: number | null;
  elapsedMs: number;
  lastDecision: string | null;
}

/** One move of an evacuation plan, at its place on the predicted timeline. */
export interface PlanStep {
  vm: string;
  vmId: string;
  from: string;
  fromId: string;
  to: string;
  toId: string;
  strategy: Strategy;
  predicted: { downtimeMs: number; totalMs: number };
  /** Predicted start, ms after the evacuation starts (queueing and link sharing included). */
  startMs: number;
  /** Start order, 1-based. */
  order: number;
  /** A move off a host that stays, to make room there for this VM of the evacuation. */
  makesRoomFor?: string;
  /** Starts once this VM has left the destination (the move that makes room for it). */
  after?: { vm: string; vmId: string };
}

/** A VM the plan cannot move, and why. */
export interface PlanBlocker {
  vm: string;
  vmId: string;
  host: string;
  reason: string;
}

export interface EvacuationPlan {
  /** The hosts to empty (names). */
  hosts: string[];
  hostIds: string[];
  steps: PlanStep[];
  blockers: PlanBlocker[];
  /** When the last move is predicted to end, ms after the start. */
  etaMs: number;
  /** Why the moves are ordered so (the orders tried, and their ETAs). */
  orderReason: string;
  /** The memory headroom kept free on every destination, share of its memory. */
  headroom: number;
}

/** One VM of an evacuation's report: where it was planned to go, where it went, and how. */
export interface EvacuationMove {
  vm: string;
  vmId: string;
  from: string;
  /** Where it went (or was last tried), or the planned destination when it never started. */
  to: string;
  strategy: Strategy;
  predicted: { downtimeMs: number; totalMs: number };
  /** The last attempt's figures; null when it did not finish. */
  downtimeMs: number | null;
  totalMs: number | null;
  outcome: Outcome | 'stayed';
  /** Why it failed or stayed, or null. */
  reason: string | null;
  /** Migration records, first to last (a retry adds one). */
  recordIds: string[];
}

/** An evacuation's report: per VM, totals, and predicted against actual time. */
export interface EvacuationReport {
  status: EvacuationStatus;
  moves: EvacuationMove[];
  totals: {
    moved: number;
    stayed: number;
    predictedDowntimeMs: number;
    downtimeMs: number;
    predictedEtaMs: number;
    actualMs: number | null;
  };
}

/** A host a consolidation would empty. */
export interface FreedHost {
  host: string;
  hostId: string;
  cluster: string;
  vms: number;
  /** The draw it saves when switched off, W (the setting, or the estimate from its size). */
  watts: number;
}

/** Free as many hosts as possible while keeping a headroom: the what-if, and what it costs. */
export interface ConsolidationPlan {
  headroom: number;
  freed: FreedHost[];
  /** Every move, on one predicted timeline (queueing under the limits, links shared). */
  steps: PlanStep[];
  etaMs: number;
  totalDowntimeMs: number;
  wattsSaved: number;
  /** How the watts were had: the setting, or the estimate from each host's size. */
  wattsNote: string;
  /** Hosts up and out of maintenance, the ones a consolidation may empty or fill. */
  hostsConsidered: number;
  /** The most any plan could free: per cluster, hosts minus the fewest whose memory and vCPUs hold every VM. */
  bound: number;
  /** The most an exact solver found could be freed, where every cluster was small enough to solve; else null. */
  optimum: number | null;
  /** Why there is or is not an optimum (instance size, solver status, time). */
  optimumNote: string;
  perCluster: { cluster: string; hosts: number; freed: number; bound: number; optimum: number | null }[];
  /** How long planning took, ms (the heuristic; the exact solve is in optimumNote). */
  planMs: number;
}

/** An evacuation set for a time. */
export interface Schedule {
  id: string;
  /** The hosts or racks as asked. */
  hosts: string[];
  /** When it runs (ISO). */
  at: string;
  state: 'pending' | 'running' | 'done' | 'missed' | 'cancelled' | 'failed';
  createdAt: string;
  createdBy: string;
  /** The plan as previewed when it was set (the run plans again and says what changed). */
  preview: EvacuationPlan;
  evacuationId: string | null;
  /** Why it was missed or failed, in words; '' otherwise. */
  note: string;
}

export interface EvacuationStatus {
  id: string;
  /** An evacuation empties hosts; a return brings VMs back home after maintenance (default evacuation). */
  kind?: 'evacuation' | 'return';
  /** The schedule it ran for, if any. */
  scheduleId?: string;
  /** How the plan at run time differs from the schedule's preview, one line each. */
  differences?: string[];
  hosts: string[];
  /** Paused: queued moves wait in place, running ones go on. Cancelled: the moves not started stay put. */
  state: 'running' | 'paused' | 'completed' | 'partial' | 'cancelled';
  plan: EvacuationPlan;
  /** The migration records of its moves (retries included). */
  migrationIds: string[];
  done: number;
  total: number;
  /** VMs left on the hosts at the end, and why. */
  left: PlanBlocker[];
  startedAt: string;
  endedAt: string | null;
  /** How long it took, on the same clock as the plan's ETA (the driver's), once it ended. */
  actualMs: number | null;
  /** While running: time since the start, on the plan's clock. */
  elapsedMs?: number;
  /**
   * While running: the time still to go, predicted again from now (the running moves'
   * live ETAs, the queued ones on the schedule prediction after them); null when paused.
   */
  remainingMs?: number | null;
  /** Who paused, resumed or cancelled it, and when, one line each. */
  actions?: string[];
}

// ---- events and alarms (the Events view) ---------------------------------

/** One line of the events log: an audit row (what someone did) or an engine decision (a migration). */
export interface LogEntry {
  /** Unique and stable: 'a<seq>' for an audit row, 'm<seq>' for a migration. */
  key: string;
  at: string;
  actor: string;
  action: string;
  /** The detail in one line of words ("vm web-01, to lab-h2"). */
  summary: string;
  source: 'audit' | 'engine';
  /** The migration the row is about, to link to its report. */
  migrationId: string | null;
}

export interface LogPage {
  rows: LogEntry[];
  /** Pass as `before` for the next (older) page; null when this was the last. */
  next: string | null;
}

export const ALARM_KINDS = ['host-unreachable', 'driver-unreachable', 'migration-failed', 'downtime-exceeded', 'vm-lost'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];
export type AlarmSeverity = 'critical' | 'major' | 'warning';

export interface Alarm {
  id: string;
  kind: AlarmKind;
  severity: AlarmSeverity;
  /** What happened and what to do, in words. */
  text: string;
  at: string;
  /** The migration it is about (its report), or null. */
  migrationId: string | null;
  /** The host it is about, or null. */
  host: string | null;
  ackedAt: string | null;
  ackedBy: string | null;
}

export interface AlarmList {
  /** Unacknowledged first, newest first; then the latest acknowledged ones. */
  alarms: Alarm[];
  unacknowledged: number;
}
