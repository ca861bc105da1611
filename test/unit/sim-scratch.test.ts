import { it } from 'vitest';
import { SimWorld } from '../../main/sim/world';
import { DEFAULT_POLICY, type Strategy } from '../../preload/model';
import type { SimDatacenter } from '../../main/sim/format';

function dc(vm: Partial<SimDatacenter['vms'][number]>): SimDatacenter {
  return {
    name: 't', clock: 'virtual', seed: 7,
    clusters: [{ id: 'c' }],
    hosts: ['a', 'b', 'c'].map((id) => ({ id, cluster: 'c', rack: 'r', cores: 32, memoryMiB: 262144, nicMiBps: 1192, maintenance: false })),
    vms: [{ id: 'v', host: 'a', memoryMiB: 1024, vcpus: 4, zeroFraction: 0.2, wssMiB: 256, dirtyMiBps: 20, cpuPct: 30, ...vm }],
  };
}
for (const strategy of ['stop-and-copy', 'precopy', 'postcopy', 'hybrid'] as Strategy[]) {
  it(strategy, async () => {
    const w = new SimWorld(dc({ dirtyMiBps: strategy === 'postcopy' ? 2000 : 20, readMiBps: 500 }));
    const m = w.migrate({ vmId: 'v', fromId: 'a', toId: 'b', strategy, policy: DEFAULT_POLICY });
    let n = 0;
    m.onSample((s) => { if (s.roundEnded || n++ % 5 === 0) console.log(strategy, JSON.stringify(s)); if (strategy === 'hybrid' && s.round === 2) m.startPostcopy(); });
    const t0 = performance.now();
    const r = await m.done;
    console.log(strategy, r, m.verifyConsistentCut(), w.now(), performance.now() - t0, w.inventory().vms[0]);
  });
}
