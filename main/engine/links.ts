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

/**
 * Progressive filling. Resources wait in a min-heap by their fair share (what each of their
 * unfrozen flows would get); the lowest saturates first and freezes its flows at that level,
 * which changes the shares of the other resources those flows cross (they are pushed again;
 * the old entries are skipped as stale). O((flows + resources) log resources): a datacenter of
 * thousands of hosts is re-shared each time a migration starts or ends.
 */
function fill(flows: readonly Flow[], uses: number[][], cap: number[], members: number[][]): number[] {
  const n = flows.length;
  const R = cap.length;
  const rate = new Array<number>(n).fill(0);
  const frozen = new Uint8Array(n);
  const frozenSum = new Float64Array(R);
  const active = Int32Array.from(members, (m) => m.length);
  const version = new Int32Array(R);
  const lastPushed = new Int32Array(R).fill(-1);
  const share = (r: number) => (cap[r]! - frozenSum[r]!) / active[r]!;
  // The heap: parallel arrays of (share, resource, the resource's version when pushed).
  const hs: number[] = [];
  const hr: number[] = [];
  const hv: number[] = [];
  const swap = (a: number, b: number) => {
    const s = hs[a]!;
    hs[a] = hs[b]!;
    hs[b] = s;
    const r = hr[a]!;
    hr[a] = hr[b]!;
    hr[b] = r;
    const v = hv[a]!;
    hv[a] = hv[b]!;
    hv[b] = v;
  };
  const push = (r: number) => {
    let i = hs.length;
    hs.push(share(r));
    hr.push(r);
    hv.push(version[r]!);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (hs[up]! <= hs[i]!) break;
      swap(i, up);
      i = up;
    }
  };
  const pop = () => {
    const last = hs.length - 1;
    swap(0, last);
    hs.pop();
    hr.pop();
    hv.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      if (l >= hs.length) break;
      const c = l + 1 < hs.length && hs[l + 1]! < hs[l]! ? l + 1 : l;
      if (hs[i]! <= hs[c]!) break;
      swap(i, c);
      i = c;
    }
  };
  /** Drops entries whose resource changed since, or has no unfrozen flow left. */
  const settle = () => {
    while (hs.length && (hv[0] !== version[hr[0]!] || active[hr[0]!] === 0)) pop();
  };
  for (let r = 0; r < R; r++) if (active[r]! > 0) push(r);
  // Only the capped flows, lowest cap first (most flows have none).
  const byCap: number[] = [];
  flows.forEach((f, i) => f.cap !== null && byCap.push(i));
  byCap.sort((a, b) => flows[a]!.cap! - flows[b]!.cap!);
  let capPtr = 0;
  let left = n;
  let level = 0;
  const touched: number[] = [];
  const freeze = (f: number) => {
    if (frozen[f]) return;
    frozen[f] = 1;
    rate[f] = level;
    left--;
    for (const r of uses[f]!) {
      frozenSum[r] = frozenSum[r]! + level;
      active[r]!--;
      version[r]!++;
      touched.push(r);
    }
  };
  while (left > 0) {
    settle();
    let next = hs.length ? hs[0]! : Infinity;
    while (capPtr < byCap.length && frozen[byCap[capPtr]!]) capPtr++;
    if (capPtr < byCap.length) next = Math.min(next, flows[byCap[capPtr]!]!.cap!);
    level = Math.max(level, next);
    const top = level * (1 + EPS) + EPS;
    // Every resource whose share is at the level saturates: its flows freeze there.
    for (settle(); hs.length && hs[0]! <= top; settle()) {
      const r = hr[0]!;
      pop();
      for (const f of members[r]!) freeze(f);
    }
    for (let k = capPtr; k < byCap.length && flows[byCap[k]!]!.cap! <= level * (1 + EPS); k++) freeze(byCap[k]!);
    // Resources whose flows froze have a new share (never below the level): queue it.
    // One entry per resource and version, however many of its flows froze.
    for (const r of touched) {
      if (active[r]! === 0 || lastPushed[r] === version[r]) continue;
      lastPushed[r] = version[r]!;
      push(r);
    }
    touched.length = 0;
  }
  return rate;
}
