// What the cluster map asks when a drag starts: every host as a destination (fit +
// prediction + verdict), at vCenter's configuration maximum of 2,500 hosts and 40,000 VMs.
import { generateDatacenter } from '../main/sim/seed';
import { SimDriver } from '../main/sim/sim-driver';
import { MigrationEngine } from '../main/engine/engine';

const dc = generateDatacenter({ clusters: 25, hostsPerCluster: 100, hostsPerRack: 20, vms: 40_000, seed: 5 });
dc.clock = 'virtual';
const sim = new SimDriver(dc);
const engine = new MigrationEngine({
  drivers: [sim],
  recorder: { insert() {}, update() {}, addRound() {} },
  startedBy: 'bench',
});
const vms = sim.inventory().vms;
const times: number[] = [];
for (let i = 0; i < 20; i++) {
  const vm = vms[(i * 1999) % vms.length]!;
  const t = performance.now();
  const d = engine.destinations(vm.id);
  times.push(performance.now() - t);
  if (d.length !== 2499) throw new Error(`expected 2,499 destinations, got ${d.length}`);
}
times.sort((a, b) => a - b);
console.log(`destinations() over ${dc.hosts.length.toLocaleString()} hosts / ${vms.length.toLocaleString()} VMs: ` +
  `median ${times[10]!.toFixed(0)} ms, worst ${times[19]!.toFixed(0)} ms (20 drags)`);
engine.dispose();
sim.dispose();
