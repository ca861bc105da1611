// The figures the console shows (dirty rate, CPU) are the driver's last measurement, and the
// console is told when a VM is measured again: the simulator measures each VM every 30 s at a
// phase of its own, and the inventory service polls the drivers and patches what was remeasured.
import { describe, expect, it } from 'vitest';
import type { Events } from '../../preload/contract';
import { SimDriver } from '../../main/sim/sim-driver';
import { generateDatacenter } from '../../main/sim/seed';
import { MEASURE_EVERY_MS } from '../../main/sim/inventory';
import { InventoryService } from '../../main/services/inventory';
import { decodeColumns } from '../../preload/inventory-part';

function sim() {
  const dc = generateDatacenter({ vms: 60 });
  dc.clock = 'virtual';
  return new SimDriver(dc);
}

describe('live figures', () => {
  it('a VM reports the same figures between two measurements and new ones after the next', async () => {
    const d = sim();
    try {
      await d.world.sleep(MEASURE_EVERY_MS + 1); // every VM has been measured once after t = 0
      const { now } = d.remeasured(null);
      const before = new Map(d.inventory().vms.map((v) => [v.id, v]));
      // Half a period on: only the VMs whose phase fell in it were measured again.
      await d.world.sleep(MEASURE_EVERY_MS / 2);
      const half = d.remeasured(now);
      expect(half.vmIds.length).toBeGreaterThan(5);
      expect(half.vmIds.length).toBeLessThan(55);
      const again = new Set(half.vmIds);
      for (const v of d.inventory().vms) {
        if (v.state !== 'running') continue;
        const b = before.get(v.id)!;
        if (!again.has(v.id)) expect([v.workload.dirtyMiBps, v.cpuPct], v.id).toEqual([b.workload.dirtyMiBps, b.cpuPct]);
      }
      const moved = [...again].filter((id) => d.inventory().vms.find((v) => v.id === id)!.workload.dirtyMiBps !== before.get(id)!.workload.dirtyMiBps);
      expect(moved.length).toBeGreaterThan(again.size / 2);
      // A whole period on, every running VM was measured again.
      await d.world.sleep(MEASURE_EVERY_MS);
      const all = d.remeasured(half.now);
      expect(all.vmIds.length).toBe(d.inventory().vms.filter((v) => v.state === 'running').length);
    } finally {
      d.dispose();
    }
  });

  it('the inventory service patches the remeasured VMs with their hosts, and stops polling when disposed', async () => {
    const d = sim();
    const sent: Events['inventory:changed'][] = [];
    const svc = new InventoryService([d]);
    try {
      svc.startChanges((p) => sent.push(p), 60_000); // polled by hand below
      await d.world.sleep(MEASURE_EVERY_MS / 3);
      svc.pollFigures();
      await new Promise((r) => setTimeout(r, 250)); // the change batch
      expect(sent).toHaveLength(1);
      const { vms, hosts } = decodeColumns(sent[0]!.changed!);
      expect(vms.length).toBeGreaterThan(3);
      const inv = d.inventory();
      for (const v of vms) {
        expect(v).toEqual(inv.vms.find((x) => x.id === v.id));
        // Its host came along: host CPU is the sum of its VMs'.
        expect(hosts.map((h) => h.id)).toContain(v.host);
      }
    } finally {
      svc.dispose();
      d.dispose();
    }
    // A change a driver reports after the service stopped (as it stops) goes nowhere.
    const before = sent.length;
    svc.changed({ kind: 'figures', vmId: d.inventory().vms[0]!.id });
    await new Promise((r) => setTimeout(r, 250));
    expect(sent).toHaveLength(before);
  });
});
