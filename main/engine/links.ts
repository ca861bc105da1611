// Bandwidth sharing between concurrent migration flows, as the schedule prediction and the
// simulator's network both assume it (TCP streams roughly share so): exact max-min fairness by
// progressive filling. Each flow crosses its source's NIC (outbound), its destination's
// NIC (inbound; NICs are full duplex) and, when one was slowed down, the host pair's
// link; it may also carry its own cap (the policy's bandwidthMiBps). All unfrozen flows
// rise together; when a resource saturates, the flows through it freeze at that level,
// and the rest keep rising. The result is never below min(srcNIC / flows out of src,
// dstNIC / flows into dst), and capacity a capped or bottlenecked flow leaves unused
// goes to the others. Rates are recomputed only when the set of flows or links changes
// (flows always want as much as they can get), not every step.

export interface Flow {
  src: string;
  dst: string;
  /** MiB/s cap of this flow, null for none. */
  cap: number | null;
}

export interface LinkTopology {
  nicMiBps(hostId: string): number;
  /** Capacity of the src-dst path when it was slowed (MiB/s), undefined when it is normal. */
  pathCapMiBps(a: string, b: string): number | undefined;
}

const EPS = 1e-9;

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

/** Fair rates in MiB/s, one per flow, in the order given. */
export function fairShares(flows: readonly Flow[], topo: LinkTopology): number[] {
  const cap: number[] = [];
  const members: number[][] = [];
  // One map per kind of resource, keyed by the host ids as they are (no key strings built
  // per flow: the simulator recomputes shares for a thousand flows each time one ends).
  const outs = new Map<string, number>();
  const ins = new Map<string, number>();
  const paths = new Map<string, number>();
  const resource = (index: Map<string, number>, key: string, capacity: () => number) => {
    let r = index.get(key);
    if (r === undefined) {
      r = cap.length;
      index.set(key, r);
      cap.push(capacity());
      members.push([]);
    }
    return r;
  };
  const uses = flows.map((f, i) => {
    const rs = [resource(outs, f.src, () => topo.nicMiBps(f.src)), resource(ins, f.dst, () => topo.nicMiBps(f.dst))];
    const path = topo.pathCapMiBps(f.src, f.dst);
    if (path !== undefined) rs.push(resource(paths, pairKey(f.src, f.dst), () => path));
    for (const r of rs) members[r]!.push(i);
    return rs;
  });
  return fill(flows, uses, cap, members);
}

function fill(flows: readonly Flow[], uses: number[][], cap: number[], members: number[][]): number[] {
  const n = flows.length;
  const rate = new Array<number>(n).fill(0);
  const frozen = new Uint8Array(n);
  const frozenSum = new Float64Array(cap.length);
  const active = members.map((m) => m.length);
  const byCap = flows.map((_, i) => i).sort((a, b) => (flows[a]!.cap ?? Infinity) - (flows[b]!.cap ?? Infinity));
  let capPtr = 0;
  let left = n;
  let level = 0;
  const freeze = (f: number) => {
    if (frozen[f]) return;
    frozen[f] = 1;
    rate[f] = level;
    left--;
    for (const r of uses[f]!) {
      frozenSum[r] = frozenSum[r]! + level;
      active[r]!--;
    }
  };
  const shares = new Float64Array(cap.length);
  while (left > 0) {
    let next = Infinity;
    for (let r = 0; r < cap.length; r++) {
      if (active[r]! === 0) continue;
      const s = (cap[r]! - frozenSum[r]!) / active[r]!;
      shares[r] = s;
      if (s < next) next = s;
    }
    while (capPtr < n && frozen[byCap[capPtr]!]) capPtr++;
    if (capPtr < n) next = Math.min(next, flows[byCap[capPtr]!]!.cap ?? Infinity);
    level = Math.max(level, next);
    const top = level * (1 + EPS) + EPS;
    // Shares computed before this round's freezes: a resource saturates at this level only if
    // its share was at it already (freezing flows at the level leaves other shares unchanged
    // or higher).
    for (let r = 0; r < cap.length; r++) {
      if (active[r]! > 0 && shares[r]! <= top) for (const f of members[r]!) freeze(f);
    }
    for (let k = capPtr; k < n && (flows[byCap[k]!]!.cap ?? Infinity) <= level * (1 + EPS); k++) freeze(byCap[k]!);
  }
  return rate;
}
