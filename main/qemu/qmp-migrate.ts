// QEMU's migration commands and replies, as Ferry uses them: the capabilities and
// parameters it sets from the engine's strategy and policy, and what query-migrate's
// figures mean as a driver sample and as a finished migration's record.
import type { DriverSample } from '../engine/driver';
import type { Phase, Policy, Strategy } from '../../preload/model';

const MiB = 1024 * 1024;

/** QEMU's own figures for a finished migration (query-migrate on the source). */
export interface QemuFigures {
  status: string;
  totalTimeMs: number | null;
  downtimeMs: number | null;
  setupTimeMs: number | null;
  transferredBytes: number;
  dirtySyncCount: number;
  postcopyRequests: number;
  errorDesc: string | null;
}

export interface QueryMigrate {
  status?: string;
  'total-time'?: number;
  downtime?: number;
  'expected-downtime'?: number;
  'setup-time'?: number;
  'cpu-throttle-percentage'?: number;
  'error-desc'?: string;
  ram?: {
    transferred?: number;
    remaining?: number;
    total?: number;
    mbps?: number;
    'dirty-pages-rate'?: number;
    'dirty-sync-count'?: number;
    'postcopy-requests'?: number;
    'page-size'?: number;
  };
}

export const PHASES: Record<string, Phase> = {
  none: 'setup', setup: 'setup', active: 'precopy', 'pre-switchover': 'switchover', device: 'switchover',
  'postcopy-active': 'postcopy', 'postcopy-paused': 'postcopy', 'postcopy-recover': 'postcopy',
  completed: 'done', failed: 'done', cancelled: 'done', cancelling: 'precopy',
};

/** The capabilities and parameters of one migration (both QEMUs get the capabilities). */
export function migrationSettings(strategy: Strategy, policy: Policy, nicMiBps: number): {
  capabilities: { capability: string; state: boolean }[];
  parameters: Record<string, unknown>;
  /** Whether auto-converge is on, so the engine may throttle the guest. */
  throttle: boolean;
} {
  const postcopy = strategy === 'postcopy' || strategy === 'hybrid';
  const throttle = policy.autoConverge || policy.timeoutAction === 'throttle';
  const capabilities = [
    { capability: 'events', state: true },
    { capability: 'postcopy-ram', state: postcopy },
    { capability: 'auto-converge', state: throttle },
  ];
  const bw = policy.bandwidthMiBps === null ? nicMiBps : Math.min(policy.bandwidthMiBps, nicMiBps);
  const parameters: Record<string, unknown> = {
    'downtime-limit': policy.downtimeLimitMs,
    'max-bandwidth': Math.round(bw * MiB),
    // Without this QEMU's post-copy runs past max-bandwidth after the switch.
    'max-postcopy-bandwidth': Math.round(bw * MiB),
  };
  // Throttling is the engine's decision: until it asks, QEMU's own trigger throttles by
  // 1% at most; setThrottle() raises the cap (increment 99: one step to the cap).
  if (throttle) Object.assign(parameters, { 'cpu-throttle-initial': 1, 'max-cpu-throttle': 1, 'cpu-throttle-increment': 99 });
  return { capabilities, parameters, throttle };
}

/**
 * One query-migrate reply as a driver sample. `prev` fills figures a reply leaves out;
 * `lastRound` is the highest pass seen so far, so a pass ends once.
 */
export function sampleOf(q: QueryMigrate, phase: Phase, t: number, prev: Pick<DriverSample, 'remainingBytes' | 'transferredBytes'> | null, lastRound: number): DriverSample {
  const ram = q.ram ?? {};
  const pageSize = ram['page-size'] ?? 4096;
  const bandwidthMiBps = ((ram.mbps ?? 0) * 1e6) / 8 / MiB;
  const remainingBytes = ram.remaining ?? prev?.remainingBytes ?? 0;
  const passes = Math.max(0, (ram['dirty-sync-count'] ?? 0) - 1);
  return {
    t,
    phase,
    round: passes,
    remainingBytes,
    transferredBytes: ram.transferred ?? prev?.transferredBytes ?? 0,
    dirtyMiBps: ((ram['dirty-pages-rate'] ?? 0) * pageSize) / MiB,
    bandwidthMiBps,
    expectedDowntimeMs: bandwidthMiBps > 0 ? (remainingBytes / (bandwidthMiBps * MiB)) * 1000 : (q['expected-downtime'] ?? 0),
    throttlePct: q['cpu-throttle-percentage'] ?? 0,
    postcopyFaults: ram['postcopy-requests'] ?? 0,
    roundEnded: passes > lastRound && (phase === 'precopy' || phase === 'switchover'),
  };
}

export function figuresOf(q: QueryMigrate): QemuFigures {
  return {
    status: q.status ?? 'none',
    totalTimeMs: q['total-time'] ?? null,
    downtimeMs: q.downtime ?? null,
    setupTimeMs: q['setup-time'] ?? null,
    transferredBytes: q.ram?.transferred ?? 0,
    dirtySyncCount: q.ram?.['dirty-sync-count'] ?? 0,
    postcopyRequests: q.ram?.['postcopy-requests'] ?? 0,
    errorDesc: q['error-desc'] ?? null,
  };
}
