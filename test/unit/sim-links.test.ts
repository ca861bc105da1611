import { describe, expect, it } from 'vitest';
import { fairShares, pairKey, type Flow, type LinkTopology } from '../../main/engine/links';
import { rng } from '../../main/sim/seed';

const topo = (nics: Record<string, number>, paths: Record<string, number> = {}): LinkTopology => ({
  nicMiBps: (id) => nics[id]!,
  pathCapMiBps: (a, b) => paths[pairKey(a, b)],
});
const flow = (src: string, dst: string, cap: number | null = null): Flow => ({ src, dst, cap });

describe('fairShares (max-min fairness)', () => {
  it('gives a single flow the slower NIC', () => {
    expect(fairShares([flow('a', 'b')], topo({ a: 1192, b: 2980 }))).toEqual([1192]);
  });

  it('splits a source NIC evenly between two flows out of it', () => {
    const [x, y] = fairShares([flow('a', 'b'), flow('a', 'c')], topo({ a: 1192, b: 1192, c: 1192 }));
    expect(x).toBeCloseTo(596);
    expect(y).toBeCloseTo(596);
  });

  it('hands what a bottlenecked flow cannot use to the others', () => {
    // a -> b is held to 100 by b's NIC; a -> c takes the rest of a's NIC, not just half.
    const [x, y] = fairShares([flow('a', 'b'), flow('a', 'c')], topo({ a: 1192, b: 100, c: 2980 }));
    expect(x).toBeCloseTo(100);
    expect(y).toBeCloseTo(1092);
  });

  it('honours a per-flow cap and redistributes the rest', () => {
    const [x, y] = fairShares([flow('a', 'b', 200), flow('a', 'c')], topo({ a: 1192, b: 1192, c: 1192 }));
    expect(x).toBeCloseTo(200);
    expect(y).toBeCloseTo(992);
  });

  it('shares a slowed path between the flows on it, in both directions', () => {
    const rates = fairShares([flow('a', 'b'), flow('b', 'a')], topo({ a: 1192, b: 1192 }, { [pairKey('a', 'b')]: 298 }));
    expect(rates[0]).toBeCloseTo(149);
    expect(rates[1]).toBeCloseTo(149);
  });

  it('on random topologies: no resource is oversubscribed and every flow is held by a saturated one', () => {
    const rand = rng(11);
    for (let trial = 0; trial < 300; trial++) {
      const hosts = Array.from({ length: 2 + Math.floor(rand() * 8) }, (_, i) => `h${i}`);
      const nics = Object.fromEntries(hosts.map((h) => [h, [1192, 2980, 500][Math.floor(rand() * 3)]!]));
      const flows: Flow[] = Array.from({ length: 1 + Math.floor(rand() * 60) }, () => {
        const src = hosts[Math.floor(rand() * hosts.length)]!;
        let dst = hosts[Math.floor(rand() * hosts.length)]!;
        if (dst === src) dst = hosts[(hosts.indexOf(src) + 1) % hosts.length]!;
        return flow(src, dst, rand() < 0.3 ? 50 + Math.floor(rand() * 500) : null);
      });
      // Some host pairs' paths slowed to a share of the slower NIC.
      const paths: Record<string, number> = {};
      if (trial % 3 === 0) for (const f of flows) if (rand() < 0.3) paths[pairKey(f.src, f.dst)] = Math.round(Math.min(nics[f.src]!, nics[f.dst]!) * (0.1 + rand() * 0.5));
      const rates = fairShares(flows, topo(nics, paths));
      const onPath = (h: Flow, g: Flow) => pairKey(h.src, h.dst) === pairKey(g.src, g.dst);
      const path = (f: Flow) => flows.reduce((s, g, i) => s + (onPath(f, g) ? rates[i]! : 0), 0);
      const out = (h: string) => flows.reduce((s, f, i) => s + (f.src === h ? rates[i]! : 0), 0);
      const inn = (h: string) => flows.reduce((s, f, i) => s + (f.dst === h ? rates[i]! : 0), 0);
      for (const h of hosts) {
        expect(out(h)).toBeLessThanOrEqual(nics[h]! + 1e-6);
        expect(inn(h)).toBeLessThanOrEqual(nics[h]! + 1e-6);
      }
      for (const f of flows) if (paths[pairKey(f.src, f.dst)] !== undefined) expect(path(f)).toBeLessThanOrEqual(paths[pairKey(f.src, f.dst)]! + 1e-6);
      flows.forEach((f, i) => {
        const r = rates[i]!;
        expect(r).toBeGreaterThan(0);
        const max = (pick: (g: Flow) => boolean) => Math.max(...flows.map((g, j) => (pick(g) ? rates[j]! : 0)));
        const bottleneck =
          (f.cap !== null && Math.abs(r - f.cap) < 1e-6) ||
          (Math.abs(out(f.src) - nics[f.src]!) < 1e-6 && r >= max((g) => g.src === f.src) - 1e-6) ||
          (Math.abs(inn(f.dst) - nics[f.dst]!) < 1e-6 && r >= max((g) => g.dst === f.dst) - 1e-6) ||
          (paths[pairKey(f.src, f.dst)] !== undefined && Math.abs(path(f) - paths[pairKey(f.src, f.dst)]!) < 1e-6 && r >= max((g) => onPath(f, g)) - 1e-6);
        expect(bottleneck).toBe(true);
      });
    }
  });
});
