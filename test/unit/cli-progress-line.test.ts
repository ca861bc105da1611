// What `ferry migrate` prints while a migration runs: nothing before the first page says a
// figure that was not measured (it printed "0 B left, 0 MiB/s dirty vs 0 MiB/s" while the
// destination started, and "0 MiB/s" on a copy's first reading).
import { describe, expect, it } from 'vitest';
import { progressLine } from '../../main/cli/format';
import type { Progress } from '../../preload/model';

const MiB = 1024 * 1024;
const p = (over: Partial<Progress>): Progress => ({
  id: 'm', vm: 'web', from: 'lab-h1', to: 'lab-h2', strategy: 'precopy', phase: 'precopy', round: 1, remainingBytes: 100 * MiB, transferredBytes: 300 * MiB,
  dirtyMiBps: 40, bandwidthMiBps: 150, expectedDowntimeMs: 600, etaMs: 1200, throttlePct: 0, elapsedMs: 3000, lastDecision: null, ...over,
});

describe('ferry migrate progress line', () => {
  it('while the destination starts: the time it took so far and the ETA, no bytes or rates', () => {
    expect(progressLine(p({ phase: 'setup', round: 0, remainingBytes: 0, transferredBytes: 0, dirtyMiBps: 0, bandwidthMiBps: 0, elapsedMs: 1980, etaMs: 881 }))).toBe('web setting up, 1.98 s in, ETA 881 ms');
  });

  it("a copy's first reading without rates says so", () => {
    expect(progressLine(p({ round: 0, remainingBytes: 505 * MiB, dirtyMiBps: 0, bandwidthMiBps: 0 }))).toBe('web copying, round 0: 505 MiB left, rates not measured yet, ETA 1.20 s');
  });

  it('a measured copy: bytes left, the dirty rate against the link, the ETA', () => {
    expect(progressLine(p({}))).toBe('web copying, round 1: 100 MiB left, 40 MiB/s dirty vs 150 MiB/s, ETA 1.20 s');
  });
});
