// Many concurrent migrations on the virtual clock: all finish, links are never oversubscribed.
import { expect, it } from 'vitest';
import { sketchDatacenter } from '../../main/sim/fixtures';
import { rng } from '../../main/sim/seed';
import { SimWorld } from '../../main/sim/world';
import { DEFAULT_POLICY, type Strategy } from '../../preload/model';

it('200 concurrent migrations of 1-2 GiB VMs across 40 hosts', async () => {
  const rand = rng(5);
  const hosts = Array.from({ length: 40 }, (_, i) => ({ id: `h${i}`, nicMiBps: i % 3 === 0 ? 2980 : 1192 }));
  const vms = Array.from({ length: 200 }, (_, i) => ({
    id: `vm${i}`,
    host: `h${i % 40}`,
    memoryMiB: 1024 * (1 + (i % 2)),
    wssMiB: 64 + Math.floor(rand() * 256),
    dirtyMiBps: 5 + Math.floor(rand() * 60),
  }));
  const world = new SimWorld(sketchDatacenter({ hosts, vms }));
  const strategies: Strategy[] = ['precopy', 'postcopy', 'hybrid', 'stop-and-copy'];
  const ms = vms.map((v, i) =>
    world.migrate({ vmId: v.id, fromId: v.host, toId: `h${(i + 1 + (i % 5)) % 40}`, strategy: strategies[i % 4]!, policy: DEFAULT_POLICY }),
  );
  let checked = 0;
  ms[0]!.onSample(() => {
    for (const h of world.inventory().hosts) {
      const nic = hosts.find((x) => x.id === h.id)!.nicMiBps;
      expect(h.usage.nicOutMiBps).toBeLessThanOrEqual(nic + 0.1);
      expect(h.usage.nicInMiBps).toBeLessThanOrEqual(nic + 0.1);
    }
    checked++;
  });
  const results = await Promise.all(ms.map((m) => m.done));
  expect(checked).toBeGreaterThan(5);
  expect(results.every((r) => r.outcome === 'completed')).toBe(true);
  expect(ms.every((m) => m.verifyConsistentCut()?.ok)).toBe(true);
  expect(world.inventory().vms.every((v, i) => v.host === `h${(i + 1 + (i % 5)) % 40}` && v.state === 'running')).toBe(true);
  world.dispose();
}, 60_000);
