// The exact answer for small clusters, so the heuristic's gap is known: the fewest hosts
// that hold every VM (memory and vCPU capacities after the reserve and headroom,
// anti-affinity groups apart, VMs that cannot move kept where they are), as a 0-1 program
// solved by HiGHS. Only the model is built and read here; the solver runs in a worker
// (main/services/exact-solver.ts).
import { groupAllowed, type ClusterModel } from './consolidate';

/** Larger clusters are left to the heuristic and the bound: the program grows as VMs x hosts. */
export const EXACT_MAX_HOSTS = 16;
export const EXACT_MAX_VMS = 160;

export function exactFits(m: ClusterModel): boolean {
  return m.hosts.length <= EXACT_MAX_HOSTS && m.vms.flat().length <= EXACT_MAX_VMS;
}

/** The model in CPLEX LP format: minimise the hosts kept. */
export function exactProgram(m: ClusterModel): string {
  const n = m.hosts.length;
  const vms = m.vms.flatMap((list, h) => list.map((vm) => ({ vm, home: h })));
  const rows: string[] = [];
  const bins: string[] = [];
  const col = (i: number, h: number) => `x${i}_${h}`;
  // A host that stays as it is may be fuller than the headroom: its own load always fits.
  // (So every plan the heuristic can make is a solution here, and the optimum bounds it.)
  const memCap = m.hosts.map((_, h) => Math.max(m.memCap[h]!, m.vms[h]!.reduce((s, v) => s + v.memoryMiB, 0)));
  const cpuCap = m.hosts.map((_, h) => Math.max(m.cpuCap[h]!, m.vms[h]!.reduce((s, v) => s + v.vcpus, 0)));
  const cand: number[][] = vms.map(({ vm, home }) =>
    vm.state === 'migrating'
      ? [home]
      : [...Array(n).keys()].filter((h) => h === home || (vm.memoryMiB <= memCap[h]! && vm.vcpus <= cpuCap[h]!)),
  );
  vms.forEach((_, i) => {
    rows.push(`a${i}: ${cand[i]!.map((h) => col(i, h)).join(' + ')} = 1`);
    for (const h of cand[i]!) bins.push(col(i, h));
  });
  for (let h = 0; h < n; h++) {
    const mem: string[] = [];
    const cpu: string[] = [];
    vms.forEach(({ vm }, i) => {
      if (!cand[i]!.includes(h)) return;
      mem.push(`${vm.memoryMiB} ${col(i, h)}`);
      cpu.push(`${vm.vcpus} ${col(i, h)}`);
    });
    if (mem.length) {
      rows.push(`m${h}: ${mem.join(' + ')} - ${Math.ceil(memCap[h]!)} y${h} <= 0`);
      rows.push(`c${h}: ${cpu.join(' + ')} - ${Math.ceil(cpuCap[h]!)} y${h} <= 0`);
    }
    if (m.pinned[h]) rows.push(`p${h}: y${h} = 1`);
    bins.push(`y${h}`);
  }
  const groups = new Map<string, number[]>();
  vms.forEach(({ vm }, i) => vm.antiAffinity && groups.set(vm.antiAffinity, [...(groups.get(vm.antiAffinity) ?? []), i]));
  let g = 0;
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    for (let h = 0; h < n; h++) {
      const terms = members.filter((i) => cand[i]!.includes(h)).map((i) => col(i, h));
      const allowed = groupAllowed(m.vms[h]!, vms[members[0]!]!.vm.antiAffinity!);
      if (terms.length > allowed) rows.push(`g${g}_${h}: ${terms.join(' + ')} <= ${allowed}`);
    }
    g++;
  }
  const obj = [...Array(n).keys()].map((h) => `y${h}`).join(' + ');
  return `Minimize\n obj: ${obj}\nSubject To\n${rows.map((r) => ` ${r}`).join('\n')}\nBinary\n ${bins.join(' ')}\nEnd\n`;
}

/** The most hosts this cluster can free, from the solver's answer to exactProgram(m); null when it gave none. */
export function readExact(m: ClusterModel, r: { Status: string; ObjectiveValue: number }): { freed: number | null; note: string } {
  if (r.Status === 'Optimal') return { freed: m.hosts.length - Math.round(r.ObjectiveValue), note: 'optimal' };
  return { freed: null, note: `the solver stopped: ${r.Status}` };
}
