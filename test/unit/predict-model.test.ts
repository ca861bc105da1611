import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy } from '../../preload/model';
import { chooseAuto, predict, predictStrategies, seedConvergenceTime } from '../../main/engine/predict';
import { distinctDirtyPages, precopyOutlook } from '../../main/engine/model';
import { host, vm } from './engine-fake-driver';

const GiB = 1024 ** 3;
const a = host('a', { nicMiBps: 117 });
const b = host('b', { nicMiBps: 117 });
const fast = host('f', { nicMiBps: 1192 });
const fast2 = host('g', { nicMiBps: 1192 });
const policy = (over: Partial<Policy> = {}): Policy => ({ ...DEFAULT_POLICY, ...over });

describe('predict: pre-copy', () => {
  it('converges for a modest dirty rate and says so with numbers', () => {
    const p = predict(vm('web', 'a', { memoryMiB: 8192 }, { wssMiB: 1024, dirtyMiBps: 40 }), a, b, 'precopy', policy());
    expect(p.converges).toBe(true);
    expect(p.rounds).toBeGreaterThan(1);
    expect(p.downtimeMs).toBeLessThan(350);
    expect(p.totalMs).toBeGreaterThan(50_000);
    expect(p.note).toMatch(/converges after \d+ rounds/);
  });

  it('cannot converge when the dirty rate over a big working set beats the link', () => {
    const p = predict(vm('db', 'a', { memoryMiB: 8192 }, { wssMiB: 6144, dirtyMiBps: 410 }), a, b, 'precopy', policy());
    expect(p.converges).toBe(false);
    expect(p.note).toContain('dirty rate 410 MiB/s over a 6 GiB working set exceeds the 117 MiB/s link: pre-copy cannot converge');
    expect(p.totalMs).toBe(600_000);
  });

  it('a small working set converges even with a write rate far above the link', () => {
    const p = predict(vm('hot', 'a', { memoryMiB: 8192 }, { wssMiB: 16, dirtyMiBps: 800 }), a, b, 'precopy', policy());
    expect(p.converges).toBe(true);
    expect(p.downtimeMs).toBeLessThan(300);
    expect(p.note).toContain('working set is small enough');
  });

  it('has a cliff: total time grows monotonically as the dirty rate approaches the link', () => {
    const totals = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95].map((r) =>
      predict(vm('x', 'f', { memoryMiB: 8192 }, { wssMiB: 8192, dirtyMiBps: r * 1192, zeroFraction: 0 }), fast, fast2, 'precopy', policy({ timeoutS: 86_400 })).totalMs,
    );
    for (let i = 1; i < totals.length; i++) expect(totals[i]!).toBeGreaterThan(totals[i - 1]!);
    expect(totals.at(-1)! / totals[0]!).toBeGreaterThan(3);
  });

  it('zero pages cost (almost) nothing', () => {
    const dense = predict(vm('x', 'a', {}, { zeroFraction: 0 }), a, b, 'precopy', policy());
    const sparse = predict(vm('x', 'a', {}, { zeroFraction: 0.6 }), a, b, 'precopy', policy());
    expect(sparse.bytes).toBeLessThan(dense.bytes * 0.5);
    expect(sparse.totalMs).toBeLessThan(dense.totalMs * 0.5);
  });

  it('auto-converge throttling lets a slightly-too-fast guest converge', () => {
    const v = vm('db', 'f', { memoryMiB: 16384 }, { wssMiB: 8192, dirtyMiBps: 1500 });
    expect(predict(v, fast, fast2, 'precopy', policy()).converges).toBe(false);
    const t = predict(v, fast, fast2, 'precopy', policy({ autoConverge: true }));
    expect(t.converges).toBe(true);
    expect(t.note).toMatch(/throttled to \d+%/);
  });

  it('uses the given bandwidth share and measured dirty rate', () => {
    const v = vm('x', 'f');
    const p = predict(v, fast, fast2, 'precopy', policy(), { bandwidthMiBps: 100, dirtyMiBps: 7 });
    expect(p.bandwidthMiBps).toBe(100);
    expect(p.dirtyMiBps).toBe(7);
    expect(predict(v, fast, fast2, 'precopy', policy({ bandwidthMiBps: 50 })).bandwidthMiBps).toBe(50);
  });
});

describe('predict: stop-and-copy, post-copy, hybrid', () => {
  it("the seed's example: 64 GiB at 1.25 GB/s pauses the guest for over 50 s", () => {
    const p = predict(vm('big', 'f', { memoryMiB: 65536 }, { zeroFraction: 0, dirtyMiBps: 0 }), fast, fast2, 'stop-and-copy', policy());
    expect(p.downtimeMs).toBeGreaterThan(50_000);
    expect(p.downtimeMs).toBe(p.totalMs);
    expect(p.bytes).toBeGreaterThanOrEqual(64 * GiB);
  });

  it('post-copy: one pass, a pause of a few ms, and a fault-storm estimate', () => {
    const p = predict(vm('db', 'a', { memoryMiB: 8192 }, { wssMiB: 6144, dirtyMiBps: 410, readWssMiB: 7000, readMiBps: 800 }), a, b, 'postcopy', policy());
    expect(p.converges).toBe(true);
    expect(p.rounds).toBe(1);
    expect(p.downtimeMs).toBeLessThan(20);
    expect(p.faultRate!).toBeGreaterThan(0);
    expect(p.faultServiceRate!).toBeGreaterThan(3000);
    expect(p.stormRisk).toBe('high');
    const calm = predict(vm('c', 'a', { memoryMiB: 8192 }, { wssMiB: 6144, dirtyMiBps: 410, readWssMiB: 7000, readMiBps: 1 }), a, b, 'postcopy', policy());
    expect(calm.stormRisk).toBe('low');
  });

  it('hybrid: pre-copy while it pays, then post-copy; judged from the first pass on', () => {
    // 410 MiB/s into 6 GiB over a 117 MiB/s link: no pass will ever leave less, so hybrid
    // switches after the first, where post-copy after one pass does.
    const p = predict(vm('db', 'a', { memoryMiB: 8192 }, { wssMiB: 6144, dirtyMiBps: 410 }), a, b, 'hybrid', policy());
    const post = predict(vm('db', 'a', { memoryMiB: 8192 }, { wssMiB: 6144, dirtyMiBps: 410 }), a, b, 'postcopy', policy());
    expect(p.converges).toBe(true);
    expect(p.rounds).toBe(post.rounds);
    expect(p.totalMs).toBeCloseTo(post.totalMs, 0);
    expect(p.downtimeMs).toBeLessThan(20);
    expect(p.note).toContain('1 pre-copy round until going on would send over 2x what post-copy pulls');
    // 110 MiB/s at random into 1 GiB: each pass shrinks, less every time, and pre-copy would
    // send far more than post-copy pulls before the pause fits: switch after one pass too.
    const slow = predict(vm('s', 'a', { memoryMiB: 8192 }, { wssMiB: 1024, dirtyMiBps: 110 }), a, b, 'hybrid', policy());
    expect(slow.rounds).toBe(1);
    // 20 MiB/s into 256 MiB: it converges in pre-copy, post-copy is not needed.
    const calm = predict(vm('c', 'a', { memoryMiB: 8192 }, { wssMiB: 256, dirtyMiBps: 20 }), a, b, 'hybrid', policy());
    expect(calm.note).toContain('post-copy not needed');
    const easy = predict(vm('web', 'a'), a, b, 'hybrid', policy());
    expect(easy.note).toContain('post-copy not needed');
  });
});

describe('precopyOutlook', () => {
  const w = (wssMiB: number, dirtyMiBps: number, writePattern: 'random' | 'sweep' = 'random') => ({ wssPages: wssMiB * 256, dirtyPagesPerSec: dirtyMiBps * 256, writePattern });
  const MB = 1024 * 1024;
  it('adds up the passes to where the pause fits, each shrinking less than the last for random writes', () => {
    // 75 MiB/s at random into 256 MiB, 221 MiB dirty, 84 MiB/s, 25 MiB fits: about nine more
    // passes, together some twice what post-copy would pull.
    const x = precopyOutlook(w(256, 75), 221 * MB, 84 * MB, 25 * MB);
    expect(x).toBeGreaterThan(2);
    expect(x).toBeLessThan(3);
    // A tenth of the dirty rate: a pass or two, a fraction of it.
    expect(precopyOutlook(w(256, 7.5), 221 * MB, 84 * MB, 25 * MB)).toBeLessThan(0.3);
    expect(precopyOutlook(w(256, 75), 20 * MB, 84 * MB, 25 * MB)).toBe(0);
  });

  it('is infinite where a pass leaves as much as it sent', () => {
    // A sweep writing faster than the link: every pass leaves the whole working set.
    expect(precopyOutlook(w(256, 120, 'sweep'), 256 * MB, 100 * MB, 30 * MB)).toBe(Infinity);
    // Random writes settle at a remainder above what fits: 1 - e^(-1.5x) = x near x = 0.58.
    expect(precopyOutlook(w(256, 150), 200 * MB, 100 * MB, 30 * MB)).toBe(Infinity);
  });
});

describe('chooseAuto', () => {
  it('prefers pre-copy when it converges, and says why', () => {
    const by = predictStrategies(vm('web', 'f'), fast, fast2, policy());
    const c = chooseAuto(by, policy());
    expect(c.strategy).toBe('precopy');
    expect(c.reason).toMatch(/^pre-copy converges in \d+ rounds? \(.*\); chosen over post-copy, which would lose the VM if the link died mid-way$/);
  });

  it('picks post-copy after one pass when pre-copy cannot converge, with the numbers', () => {
    const by = predictStrategies(vm('db', 'a', { memoryMiB: 8192 }, { wssMiB: 6144, dirtyMiBps: 410 }), a, b, policy());
    const c = chooseAuto(by, policy());
    expect(c.strategy).toBe('postcopy');
    expect(c.reason).toMatch(/^dirty rate 410 MiB\/s exceeds the 117 MiB\/s link: pre-copy cannot converge; post-copy after one pre-copy pass \(.*\) where hybrid would switch too/);
    expect(c.reason).toContain('the VM is lost if the link dies during post-copy');
  });

  it('picks post-copy when pre-copy would converge only very slowly', () => {
    const by = predictStrategies(vm('x', 'a', { memoryMiB: 8192 }, { wssMiB: 4096, dirtyMiBps: 110 }), a, b, policy());
    const c = chooseAuto(by, policy());
    expect(by.precopy.converges).toBe(true);
    expect(c.strategy).toBe('postcopy');
    expect(c.reason).toMatch(/^pre-copy would converge but only after/);
  });
});

describe('chooseAuto, speed preferred', () => {
  // A guest that pre-copy moves in several rounds, while post-copy is done after one pass.
  const busy = vm('app', 'a', { memoryMiB: 8192 }, { wssMiB: 2048, dirtyMiBps: 60 });

  it('takes the fastest live strategy within the limit, and says what it gives up', () => {
    const by = predictStrategies(busy, a, b, policy({ preferSpeed: true }));
    expect(by.precopy.converges).toBe(true);
    expect(chooseAuto(by, policy()).strategy).toBe('precopy');
    const c = chooseAuto(by, policy({ preferSpeed: true }));
    const quickest = (['precopy', 'postcopy', 'hybrid'] as const).filter((s) => by[s].converges && by[s].downtimeMs <= 300).sort((x, y) => by[x].totalMs - by[y].totalMs)[0]!;
    expect(quickest).not.toBe('precopy');
    expect(c.strategy).toBe(quickest);
    expect(by[c.strategy].totalMs).toBeLessThan(by.precopy.totalMs);
    expect(c.reason).toMatch(/^speed preferred: post-copy is the fastest within the 300 ms limit \(.*against pre-copy's .*\); the VM is lost if the link dies during post-copy/);
  });

  it('keeps pre-copy where it is the fastest anyway', () => {
    const by = predictStrategies(vm('web', 'f'), fast, fast2, policy({ preferSpeed: true }));
    expect(chooseAuto(by, policy({ preferSpeed: true })).strategy).toBe(chooseAuto(by, policy()).strategy);
  });

  it('never takes a strategy over the downtime limit for speed', () => {
    const by = predictStrategies(busy, a, b, policy({ preferSpeed: true, downtimeLimitMs: 1 }));
    const c = chooseAuto(by, policy({ preferSpeed: true, downtimeLimitMs: 1 }));
    expect(by[c.strategy].downtimeMs <= 1 || !c.reason.startsWith('speed preferred')).toBe(true);
  });
});

describe('model pieces', () => {
  it('distinct dirty pages saturate at the working set', () => {
    expect(distinctDirtyPages(1000, 10, 1)).toBeCloseTo(10, 0);
    expect(distinctDirtyPages(1000, 1e6, 10)).toBeCloseTo(1000, 5);
    expect(distinctDirtyPages(0, 100, 1)).toBe(0);
  });

  it("the seed's formula: T = N/delta ln(mu/(mu-delta)), a cliff at delta = mu", () => {
    expect(seedConvergenceTime(1000, 50, 100)).toBeCloseTo((1000 / 50) * Math.log(2), 9);
    expect(seedConvergenceTime(1000, 0, 100)).toBe(10);
    expect(seedConvergenceTime(1000, 100, 100)).toBe(Infinity);
    expect(seedConvergenceTime(1000, 99, 100)).toBeGreaterThan(seedConvergenceTime(1000, 90, 100) * 1.5);
  });
});

describe('auto near the cliff', () => {
  const link = host('a', { nicMiBps: 1000 });
  const other = host('b', { nicMiBps: 1000 });
  const pol = policy({ bandwidthMiBps: 100, timeoutS: 120 });

  it('arms post-copy (hybrid) when pre-copy converges only slowly with dirtying close to the link', () => {
    // A 224 MiB set rewritten at 85 MiB/s against a 100 MiB/s cap: converges, in many rounds.
    const g = vm('cliff', 'a', { memoryMiB: 512 }, { wssMiB: 224, dirtyMiBps: 85, zeroFraction: 0.5 });
    const by = predictStrategies(g, link, other, pol);
    expect(by.precopy.converges).toBe(true);
    expect(by.precopy.rounds).toBeGreaterThanOrEqual(5);
    const c = chooseAuto(by, pol);
    expect(c.strategy).toBe('hybrid');
    expect(c.reason).toMatch(/dirty rate 85 MiB\/s is 85 % of the 100 MiB\/s link: hybrid, pre-copy with post-copy armed/);
  });

  it('keeps plain pre-copy far from the cliff, and for a small set rewritten faster than the link', () => {
    const calm = vm('calm', 'a', { memoryMiB: 512 }, { wssMiB: 128, dirtyMiBps: 20, zeroFraction: 0.5 });
    expect(chooseAuto(predictStrategies(calm, link, other, pol), pol).strategy).toBe('precopy');
    const tiny = vm('tiny', 'a', { memoryMiB: 512 }, { wssMiB: 4, dirtyMiBps: 400, zeroFraction: 0.5 });
    const by = predictStrategies(tiny, link, other, pol);
    expect(by.precopy.rounds).toBeLessThan(5);
    expect(chooseAuto(by, pol).strategy).toBe('precopy');
  });
});

describe('auto when the last pause barely fits', () => {
  const pol = policy({ bandwidthMiBps: 100, timeoutS: 120 });
  const from = host('a', { nicMiBps: 1000 });
  const to = host('b', { nicMiBps: 1000 });
  it('arms post-copy when pre-copy needs 5+ rounds and its last pause takes 75 % of the limit or more', () => {
    const g = vm('tight', 'a', { memoryMiB: 4096 }, { wssMiB: 192, dirtyMiBps: 60, zeroFraction: 0.5 });
    const by = predictStrategies(g, from, to, pol);
    expect(by.precopy.rounds).toBeGreaterThanOrEqual(5);
    expect(by.precopy.downtimeMs).toBeGreaterThanOrEqual(225);
    const c = chooseAuto(by, pol);
    expect(c.strategy).toBe('hybrid');
    expect(c.reason).toMatch(/its last pause \(~\d+ ms\) barely fits the 300 ms limit/);
    // Same rounds, a pause well inside the limit: plain pre-copy.
    const roomy = vm('roomy', 'a', { memoryMiB: 4096 }, { wssMiB: 1024, dirtyMiBps: 30, zeroFraction: 0.5 });
    const by2 = predictStrategies(roomy, from, to, pol);
    expect(by2.precopy.downtimeMs).toBeLessThan(225);
    expect(chooseAuto(by2, pol).strategy).toBe('precopy');
  });
});
