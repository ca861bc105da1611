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
  const n = flows.length;
  // Resources get dense indices: each host's outbound NIC, its inbound NIC, and each slowed
  // host pair. A flow crosses two or three of them (slot 3f+2 is -1 when its path is normal).
  const outs = new Map<string, number>();
  const ins = new Map<string, number>();
  const paths = new Map<string, number>();
  const cap: number[] = [];
  const uses = new Int32Array(3 * n);
  const resource = (index: Map<string, number>, key: string, capacity: number | undefined): number => {
    let r = index.get(key);
    if (r === undefined) {
      r = cap.length;
      index.set(key, r);
      cap.push(capacity ?? topo.nicMiBps(key));
    }
    return r;
  };
  for (let i = 0; i < n; i++) {
    const f = flows[i]!;
    uses[3 * i] = resource(outs, f.src, undefined);
    uses[3 * i + 1] = resource(ins, f.dst, undefined);
    const path = topo.pathCapMiBps(f.src, f.dst);
    uses[3 * i + 2] = path === undefined ? -1 : resource(paths, pairKey(f.src, f.dst), path);
  }
  const caps = new Float64Array(n);
  for (let i = 0; i < n; i++) caps[i] = flows[i]!.cap ?? Infinity;
  const rate = fill(caps, uses, new Float64Array(cap));
  // A plain array out (Array.from on a typed array is several times slower than this loop).
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = rate[i]!;
  return out;
}

/**
 * Progressive filling. Resources wait in a min-heap by their fair share (what each of their
 * unfrozen flows would get); the lowest saturates first and freezes its flows at that level,
 * which changes the shares of the other resources those flows cross (they are pushed again;
 * the old entries are skipped as stale). O((flows + resources) log resources): a datacenter of
 * thousands of hosts is re-shared each time a migration starts or ends, so everything here is
 * a flat typed array (flows' caps, Infinity for none; three resource slots per flow).
 */
function fill(caps: Float64Array, uses: Int32Array, cap: Float64Array): Float64Array {
  const n = caps.length;
  const R = cap.length;
  const rate = new Float64Array(n);
  const frozen = new Uint8Array(n);
  const frozenSum = new Float64Array(R);
  // Members of each resource, grouped (counting sort): flows of r are at memberOf[start[r]..start[r+1]).
  const active = new Int32Array(R);
  for (let k = 0; k < uses.length; k++) if (uses[k]! >= 0) active[uses[k]!]!++;
  const start = new Int32Array(R + 1);
  for (let r = 0; r < R; r++) start[r + 1] = start[r]! + active[r]!;
  const memberOf = new Int32Array(start[R]!);
  const fillAt = start.slice(0, R);
  for (let k = 0; k < uses.length; k++) {
    const r = uses[k]!;
    if (r >= 0) memberOf[fillAt[r]!++] = (k / 3) | 0;
  }
  const version = new Int32Array(R);
  const lastPushed = new Int32Array(R).fill(-1);
  // The heap: parallel arrays of (share, resource, the resource's version when pushed).
  // Each resource is pushed at most once per version, and a version only grows when a flow
  // of it freezes: at most R + 3n entries.
  const size = R + uses.length + 1;
  const hs = new Float64Array(size);
  const hr = new Int32Array(size);
  const hv = new Int32Array(size);
  let len = 0;
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
    let i = len++;
    hs[i] = (cap[r]! - frozenSum[r]!) / active[r]!;
    hr[i] = r;
    hv[i] = version[r]!;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (hs[up]! <= hs[i]!) break;
      swap(i, up);
      i = up;
    }
  };
  const pop = () => {
    len--;
    swap(0, len);
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      if (l >= len) break;
      const c = l + 1 < len && hs[l + 1]! < hs[l]! ? l + 1 : l;
      if (hs[i]! <= hs[c]!) break;
      swap(i, c);
      i = c;
    }
  };
  /** Drops entries whose resource changed since, or has no unfrozen flow left. */
  const settle = () => {
    while (len > 0 && (hv[0] !== version[hr[0]!] || active[hr[0]!] === 0)) pop();
  };
  for (let r = 0; r < R; r++) if (active[r]! > 0) push(r);
  // Only the capped flows, lowest cap first (most flows have none).
  const byCap: number[] = [];
  for (let i = 0; i < n; i++) if (caps[i] !== Infinity) byCap.push(i);
  byCap.sort((a, b) => caps[a]! - caps[b]!);
  let capPtr = 0;
  let left = n;
  let level = 0;
  const touched: number[] = [];
  const freeze = (f: number) => {
    if (frozen[f]) return;
    frozen[f] = 1;
    rate[f] = level;
    left--;
    for (let k = 3 * f; k < 3 * f + 3; k++) {
      const r = uses[k]!;
      if (r < 0) continue;
      frozenSum[r] = frozenSum[r]! + level;
      active[r]!--;
      version[r]!++;
      touched.push(r);
    }
  };
  while (left > 0) {
    settle();
    let next = len > 0 ? hs[0]! : Infinity;
    while (capPtr < byCap.length && frozen[byCap[capPtr]!]) capPtr++;
    if (capPtr < byCap.length) next = Math.min(next, caps[byCap[capPtr]!]!);
    level = Math.max(level, next);
    const top = level * (1 + EPS) + EPS;
    // Every resource whose share is at the level saturates: its flows freeze there.
    for (settle(); len > 0 && hs[0]! <= top; settle()) {
      const r = hr[0]!;
      pop();
      for (let k = start[r]!; k < start[r + 1]!; k++) freeze(memberOf[k]!);
    }
    for (let k = capPtr; k < byCap.length && caps[byCap[k]!]! <= level * (1 + EPS); k++) freeze(byCap[k]!);
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
