// Many migrations at once: queueing under the concurrency limits and max-min sharing of
// each NIC, predicted as a schedule.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy } from '../../preload/model';
import { predict } from '../../main/engine/predict';
import { predictSchedule, type ScheduleInput } from '../../main/engine/schedule';
import { host, vm } from './engine-fake-driver';

const policy: Policy = { ...DEFAULT_POLICY, bandwidthMiBps: null };
const a = host('a', { nicMiBps: 1000 });
const b = host('b', { nicMiBps: 1000 });
const c = host('c', { nicMiBps: 1000 });
// Idle guests: pre-copy is one pass, so time is proportional to the bandwidth share.
const idle = (id: string) => vm(id, 'a', { memoryMiB: 4096 }, { wssMiB: 0, dirtyMiBps: 0, zeroFraction: 0 });
/** Within 1 %: the pause's fixed part does not scale with the share. */
const near = (x: number, y: number) => expect(Math.abs(x / y - 1)).toBeLessThan(0.01);
const move = (id: string, to = b): ScheduleInput => ({ id, vm: idle(id), from: a, to, strategy: 'precopy', policy });

describe('predictSchedule', () => {
  it('four VMs on one link: two at a time (perHostOut 2) at half the NIC each, then the other two', () => {
    const alone = predict(idle('x'), a, b, 'precopy', policy).totalMs;
    const s = predictSchedule(['v1', 'v2', 'v3', 'v4'].map((id) => move(id)), { perHostOut: 2, perHostIn: 2, total: 16 });
    const [m1, m2, m3, m4] = s.moves;
    expect(m1!.startMs).toBe(0);
    expect(m2!.startMs).toBe(0);
    // Sharing 1000 MiB/s two ways doubles each one's time.
    near(m1!.endMs, 2 * alone);
    expect(m3!.startMs).toBeCloseTo(m1!.endMs, 6);
    near(m4!.endMs, 4 * alone);
    near(s.etaMs, 4 * alone);
    // Predicting each on its own would say `alone` for every one: 4x too short for the last.
    expect(s.etaMs / alone).toBeGreaterThan(3.9);
  });

  it('capacity one migration leaves goes to the others: a capped flow beside an uncapped one', () => {
    const capped: ScheduleInput = { ...move('slow'), policy: { ...policy, bandwidthMiBps: 100 } };
    const s = predictSchedule([capped, move('fast', c)], { perHostOut: 2, perHostIn: 2, total: 16 });
    const fast = s.moves[1]!;
    // The fast one gets 900 of the source's 1000 MiB/s while the capped one runs.
    const at900 = predict(idle('x'), a, c, 'precopy', { ...policy, bandwidthMiBps: 900 }).totalMs;
    near(fast.endMs, at900);
  });

  it('a migration starts when a slot frees, and auto decides at the share it starts with', () => {
    const busy = (id: string) => ({ ...move(id), vm: vm(id, 'a', { memoryMiB: 4096 }, { wssMiB: 2048, dirtyMiBps: 700, zeroFraction: 0 }), strategy: 'auto' as const });
    const s = predictSchedule([busy('h1'), busy('h2'), busy('h3')], { perHostOut: 2, perHostIn: 2, total: 16 });
    // 700 MiB/s of dirtying beats a 500 MiB/s half-share: pre-copy cannot converge there.
    expect(s.moves[0]!.strategy).not.toBe('precopy');
    expect(s.moves[2]!.startMs).toBeGreaterThan(0);
    expect(s.moves.every((m) => m.endMs > m.startMs)).toBe(true);
  });
});
