// What Ferry tells QEMU for a migration, and how it reads query-migrate's replies.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../preload/model';
import { figuresOf, migrationSettings, sampleOf } from '../../main/qemu/qmp-migrate';

const MiB = 1024 * 1024;

describe('migrationSettings', () => {
  it('caps pre-copy and post-copy at the policy bandwidth, never above the NIC', () => {
    const s = migrationSettings('hybrid', { ...DEFAULT_POLICY, bandwidthMiBps: 100 }, 1000);
    expect(s.parameters['max-bandwidth']).toBe(100 * MiB);
    expect(s.parameters['max-postcopy-bandwidth']).toBe(100 * MiB);
    expect(s.capabilities).toContainEqual({ capability: 'postcopy-ram', state: true });
    const uncapped = migrationSettings('precopy', { ...DEFAULT_POLICY, bandwidthMiBps: null }, 1000);
    expect(uncapped.parameters['max-bandwidth']).toBe(1000 * MiB);
    expect(uncapped.capabilities).toContainEqual({ capability: 'postcopy-ram', state: false });
  });

  it('arms auto-converge only when the engine may throttle, starting at 1 % so the engine decides', () => {
    const off = migrationSettings('precopy', { ...DEFAULT_POLICY, autoConverge: false, timeoutAction: 'abort' }, 1000);
    expect(off.throttle).toBe(false);
    expect(off.parameters['cpu-throttle-initial']).toBeUndefined();
    const on = migrationSettings('precopy', { ...DEFAULT_POLICY, autoConverge: false, timeoutAction: 'throttle' }, 1000);
    expect(on.throttle).toBe(true);
    expect(on.parameters).toMatchObject({ 'cpu-throttle-initial': 1, 'max-cpu-throttle': 1 });
  });
});

describe('sampleOf', () => {
  const reply = (syncs: number, remaining?: number) => ({
    status: 'active',
    ram: { transferred: 50 * MiB, remaining, mbps: 800, 'dirty-sync-count': syncs, 'dirty-pages-rate': 2560, 'page-size': 4096 },
  });

  it('ends a pass once, when dirty-sync-count moves on', () => {
    const a = sampleOf(reply(2, 10 * MiB), 'precopy', 100, null, 0);
    expect(a).toMatchObject({ round: 1, roundEnded: true, remainingBytes: 10 * MiB });
    expect(a.dirtyMiBps).toBeCloseTo(10);
    expect(a.bandwidthMiBps).toBeCloseTo((800e6 / 8) / MiB);
    expect(sampleOf(reply(2, 9 * MiB), 'precopy', 200, a, 1).roundEnded).toBe(false);
  });

  it('keeps the last known remaining bytes when a reply leaves them out', () => {
    const prev = sampleOf(reply(1, 12 * MiB), 'precopy', 100, null, 0);
    expect(sampleOf(reply(1), 'precopy', 200, prev, 0).remainingBytes).toBe(12 * MiB);
  });

  it("reads a finished migration's own figures", () => {
    const f = figuresOf({ status: 'completed', 'total-time': 4200, downtime: 31, 'setup-time': 12, ram: { transferred: 7, 'dirty-sync-count': 5, 'postcopy-requests': 3 } });
    expect(f).toEqual({ status: 'completed', totalTimeMs: 4200, downtimeMs: 31, setupTimeMs: 12, transferredBytes: 7, dirtySyncCount: 5, postcopyRequests: 3, errorDesc: null });
  });
});
