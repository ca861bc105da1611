// The evacuation planner: a destination for every VM on the hosts to empty, within
// capacity (memory with a headroom kept free, vCPUs under the overcommit), anti-affinity
// honoured, in the same cluster, the same rack preferred, spread over destinations rather
// than piled on the first; what cannot move is a blocker with its reason and does not stop
// the rest. Then the order that finishes soonest on the schedule prediction (queueing
// under the concurrency limits, VMs sharing a link).
import type { EvacuationPlan, Host, PlanBlocker, PlanStep, Policy, Vm } from '../../preload/model';
import type { DriverCalibration } from './constants';
import { fit, spare, type PlacementView } from './placement';
import { chooseAuto, linkMiBps, predictStrategies } from './predict';
import type { Limits } from './queue';
import { predictSchedule, type ScheduleInput } from './schedule';
import { formatMs } from '../../common/units';
import { plural } from './words';

export const DEFAULT_HEADROOM = 0.1;

export interface PlanOptions {
  policy: Policy;
  limits: Limits;
  /** Share of each destination's memory kept free after the moves (default 10 %). */
  headroom?: number;
  /** The calibration of the driver that owns a host. */
  calibrationOf?: (hostId: string) => DriverCalibration | undefined;
  /** VMs already on their way to a host (queued or running migrations). */
  busy?: (hostId: string) => Vm[];
  /** Destinations chosen beforehand (a consolidation's), taken when they still fit. */
  prefer?: ReadonlyMap<string, string>;
}

interface Placed {
  vm: Vm;
  from: Host;
  to: Host;
  /** A move off another host so that `makesRoomFor` fits there. */
  makesRoomFor?: Vm;
  /** This move waits until that VM has left its destination. */
  after?: Vm;
}

/** Hosts named by id, by name, or by rack name; an unknown name is an error naming it. */
export function resolveHosts(view: PlacementView, refs: readonly string[]): Host[] {
  const out = new Map<string, Host>();
  for (const ref of refs) {
    const byHost = view.hosts.find((h) => h.id === ref) ?? view.hosts.find((h) => h.name === ref);
    const inRack = byHost ? [byHost] : view.hosts.filter((h) => h.rack === ref);
    if (!inRack.length) throw new Error(`no host or rack "${ref}"`);
    for (const h of inRack) out.set(h.id, h);
  }
  return [...out.values()];
}

export function planEvacuation(view: PlacementView, sources: readonly Host[], opts: PlanOptions): EvacuationPlan {
  const headroom = opts.headroom ?? DEFAULT_HEADROOM;
  const leaving = new Set(sources.map((h) => h.id));
  const hostById = new Map(view.hosts.map((h) => [h.id, h]));
  const blockers: PlanBlocker[] = [];
  const block = (vm: Vm, reason: string) => blockers.push({ vm: vm.name, vmId: vm.id, host: hostById.get(vm.host)?.name ?? vm.host, reason });

  const movable: Vm[] = [];
  for (const vm of view.vms) {
    if (!leaving.has(vm.host)) continue;
    if (vm.state === 'running' || vm.state === 'paused') movable.push(vm);
    else if (vm.state === 'migrating') block(vm, `${vm.name} is migrating already; wait for it to end`);
    else block(vm, `${vm.name} is ${vm.state}: only a running VM can be live-migrated (cold-move or remove it)`);
  }
  // Largest first: the hardest to place choose while there is most room.
  movable.sort((a, b) => b.memoryMiB - a.memoryMiB || b.vcpus - a.vcpus || a.name.localeCompare(b.name));

  const byCluster = new Map<string, Host[]>();
  for (const h of view.hosts) {
    if (leaving.has(h.id) || h.state !== 'up' || h.maintenance) continue;
    const list = byCluster.get(h.cluster);
    if (list) list.push(h);
    else byCluster.set(h.cluster, [h]);
  }
  // VMs bound for each destination: those already on their way (asked once per host), then
  // the ones this plan sends there.
  const incoming = new Map<string, Vm[]>();
  const incomingOf = (hostId: string): Vm[] => {
    let list = incoming.get(hostId);
    if (!list) incoming.set(hostId, (list = [...(opts.busy?.(hostId) ?? [])]));
    return list;
  };
  /** Moves this plan sends to each host (the spread's tie-break). */
  const planned = new Map<string, number>();
  const placed: Placed[] = [];
  /** VMs moved to make room (each at most once). */
  const madeRoom = new Set<string>();

  /** Why it cannot move within the downtime limit with any strategy (alone on its link: the best case), or null. */
  const cannotConverge = (vm: Vm, from: Host, to: Host): string | null => {
    const by = predictStrategies(vm, from, to, opts.policy, { bandwidthMiBps: linkMiBps(from, to, opts.policy), calibration: opts.calibrationOf?.(from.id) });
    const auto = chooseAuto(by, opts.policy);
    return by[auto.strategy].converges ? null : `cannot meet its ${formatMs(opts.policy.downtimeLimitMs)} downtime limit with any strategy: ${by[auto.strategy].note}`;
  };

  /** VMs on each host that holds memory (built once, only if some VM needs room made). */
  let onHost: Map<string, Vm[]> | null = null;
  const residentsOf = (hostId: string): Vm[] => {
    if (!onHost) {
      onHost = new Map();
      for (const v of view.vms) if (v.state === 'running' || v.state === 'paused') onHost.set(v.host, [...(onHost.get(v.host) ?? []), v]);
    }
    return onHost.get(hostId) ?? [];
  };

  /**
   * A host `d` where `vm` would fit once one smaller VM `x` of `d` has moved to a third host
   * `e` (with the headroom kept there too): the pair that moves the least memory.
   */
  const makeRoom = (vm: Vm, candidates: Host[]): { d: Host; x: Vm; e: Host } | null => {
    let found: { d: Host; x: Vm; e: Host } | null = null;
    for (const d of candidates) {
      if (view.refusal?.(vm, d)) continue;
      // What x must free: the room vm needs plus whatever the host is already over by.
      const left = spare(d, view, incomingOf(d.id), vm.id);
      const needMem = vm.memoryMiB + headroom * d.memoryMiB - left.memMiB;
      const needCores = vm.vcpus - left.cores;
      const twins = [...residentsOf(d.id), ...incomingOf(d.id)].filter((v) => vm.antiAffinity && v.antiAffinity === vm.antiAffinity);
      for (const x of residentsOf(d.id)) {
        if (x.memoryMiB < needMem || x.vcpus < needCores || madeRoom.has(x.id) || leaving.has(x.host)) continue;
        if (twins.some((t) => t.id !== x.id)) continue;
        if (found && x.memoryMiB >= found.x.memoryMiB) continue;
        if (incomingOf(d.id).includes(x)) continue;
        // Where x goes: a host that keeps its headroom, the same rack preferred.
        let e: Host | null = null;
        for (const h of candidates) {
          if (h.id === d.id) continue;
          const g = fit(x, h, view, incomingOf(h.id));
          if (!g.ok || g.freeMemMiB - x.memoryMiB < headroom * h.memoryMiB) continue;
          if (!e || (h.rack === d.rack && e.rack !== d.rack)) e = h;
        }
        if (e && !cannotConverge(x, d, e)) found = { d, x, e };
      }
    }
    return found;
  };

  for (const vm of movable) {
    const from = hostById.get(vm.host)!;
    const candidates = byCluster.get(from.cluster) ?? [];
    if (!candidates.length) {
      block(vm, `no other host of cluster ${from.cluster} is up and out of maintenance`);
      continue;
    }
    let best: { host: Host; score: [number, number, number] } | null = null;
    let closest: { free: number; reason: string } | null = null;
    let affinity: string | null = null;
    for (const to of candidates) {
      const f = fit(vm, to, view, incomingOf(to.id));
      const keep = headroom * to.memoryMiB;
      if (!f.ok) {
        if (/anti-affinity/.test(f.reason ?? '')) affinity ??= f.reason;
        else if (!closest || f.freeMemMiB > closest.free) closest = { free: f.freeMemMiB, reason: f.reason! };
        continue;
      }
      const after = f.freeMemMiB - vm.memoryMiB;
      if (after < keep) {
        if (!closest || f.freeMemMiB > closest.free) {
          closest = { free: f.freeMemMiB, reason: `${to.name} would keep less than the ${Math.round(headroom * 100)} % headroom free` };
        }
        continue;
      }
      const score: [number, number, number] = opts.prefer?.get(vm.id) === to.id
        ? [-1, 0, 0]
        : [to.rack === from.rack ? 0 : 1, 1 - after / to.memoryMiB, planned.get(to.id) ?? 0];
      if (!best || less(score, best.score)) best = { host: to, score };
    }
    // No host has room: can one be made by first moving a smaller VM off it?
    const room = best ? null : makeRoom(vm, candidates);
    const target = best?.host ?? room?.d;
    if (!target) {
      block(vm, `no host of cluster ${from.cluster} can take it: ${closest?.reason ?? affinity ?? 'none fits'}`);
      continue;
    }
    const why = cannotConverge(vm, from, target);
    if (why) {
      block(vm, why);
      continue;
    }
    if (room) {
      incomingOf(room.e.id).push(room.x);
      madeRoom.add(room.x.id);
      placed.push({ vm: room.x, from: room.d, to: room.e, makesRoomFor: vm });
    }
    incomingOf(target.id).push(vm);
    planned.set(target.id, (planned.get(target.id) ?? 0) + 1);
    placed.push({ vm, from, to: target, after: room?.x });
  }

  const ordered = bestOrder(placed, opts);
  return {
    hosts: sources.map((h) => h.name),
    hostIds: sources.map((h) => h.id),
    steps: ordered.steps,
    blockers,
    etaMs: ordered.etaMs,
    orderReason: ordered.reason,
    headroom,
  };
}

function less(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** Tries the usual orders on the schedule prediction and keeps the one that ends soonest. */
function bestOrder(all: Placed[], opts: PlanOptions): { steps: PlanStep[]; etaMs: number; reason: string } {
  if (!all.length) return { steps: [], etaMs: 0, reason: 'nothing to move' };
  // Moves that wait for room to be made go after the rest (the queue cannot start them sooner).
  const placed = all.filter((p) => !p.after);
  const waiting = all.filter((p) => p.after);
  const input = (p: Placed): ScheduleInput => ({
    id: p.vm.id, vm: p.vm, from: p.from, to: p.to, strategy: 'auto', policy: opts.policy, calibration: opts.calibrationOf?.(p.from.id),
  });
  // Each VM's time alone on its link ranks the longest-first and shortest-first orders.
  const solo = new Map(placed.map((p) => [p.vm.id, predictSchedule([input(p)], opts.limits).etaMs]));
  const orders: { name: string; list: Placed[] }[] = [
    { name: 'longest first', list: [...placed].sort((a, b) => solo.get(b.vm.id)! - solo.get(a.vm.id)!) },
    { name: 'largest memory first', list: placed },
    { name: 'shortest first', list: [...placed].sort((a, b) => solo.get(a.vm.id)! - solo.get(b.vm.id)!) },
  ];
  const tried = orders.map((o) => ({ ...o, schedule: predictSchedule(o.list.map(input), opts.limits) }));
  const best = tried.reduce((x, y) => (y.schedule.etaMs < x.schedule.etaMs ? y : x));
  const others = tried.filter((t) => t !== best).map((t) => `${formatMs(t.schedule.etaMs)} ${t.name}`);
  let reason = placed.length === 1
    ? 'one move'
    : `${best.name}: ends in ${formatMs(best.schedule.etaMs)}, against ${others.join(' and ')} (${plural(placed.length, 'move')} under ${opts.limits.perHostOut} out and ${opts.limits.perHostIn} in per host)`;
  const step = (p: Placed, m: { strategy: PlanStep['strategy']; downtimeMs: number; startMs: number; endMs: number }, order: number): PlanStep => ({
    vm: p.vm.name, vmId: p.vm.id, from: p.from.name, fromId: p.from.id, to: p.to.name, toId: p.to.id,
    strategy: m.strategy, predicted: { downtimeMs: m.downtimeMs, totalMs: m.endMs - m.startMs }, startMs: m.startMs, order,
    ...(p.makesRoomFor ? { makesRoomFor: p.makesRoomFor.name } : {}),
    ...(p.after ? { after: { vm: p.after.name, vmId: p.after.id } } : {}),
  });
  // In queue order: started in this order, the engine's queue reproduces the schedule.
  const steps = best.schedule.moves.map((m, i) => step(best.list[i]!, m, i + 1));
  let etaMs = best.schedule.etaMs;
  if (waiting.length) {
    // After the last move that makes room: then the waiting ones, on their own schedule.
    const ends = new Map(steps.map((x) => [x.vmId, x.startMs + x.predicted.totalMs]));
    const offset = Math.max(...waiting.map((p) => ends.get(p.after!.id) ?? 0));
    const then = predictSchedule(waiting.map(input), opts.limits);
    then.moves.forEach((m, i) => steps.push(step(waiting[i]!, { ...m, startMs: m.startMs + offset, endMs: m.endMs + offset }, steps.length + 1)));
    etaMs = Math.max(etaMs, offset + then.etaMs);
    reason += `; then ${plural(waiting.length, 'move')} into room made by moving another VM first`;
  }
  return { steps, etaMs, reason };
}

/**
 * Bring them home: the VMs an evacuation moved off `home`, back onto it, as far as it has
 * room now. Only `home` receives, and each VM is checked against what the ones before it
 * already took, so no host overfills midway; what cannot return is listed with the reason.
 */
export function planReturn(view: PlacementView, home: Host, vmIds: readonly string[], opts: PlanOptions): EvacuationPlan {
  const hostById = new Map(view.hosts.map((h) => [h.id, h]));
  const blockers: PlanBlocker[] = [];
  const placed: Placed[] = [];
  const incoming: Vm[] = [...(opts.busy?.(home.id) ?? [])];
  const vms = vmIds.map((id) => view.vms.find((v) => v.id === id) ?? id);
  // The biggest first: the small ones fill what room is left.
  const known = vms.filter((v): v is Vm => typeof v !== 'string').sort((a, b) => b.memoryMiB - a.memoryMiB);
  for (const id of vms.filter((v): v is string => typeof v === 'string')) blockers.push({ vm: id, vmId: id, host: '?', reason: `${id} is no longer in the inventory` });
  for (const vm of known) {
    const from = hostById.get(vm.host);
    if (vm.host === home.id) continue; // already home
    if (!from) {
      blockers.push({ vm: vm.name, vmId: vm.id, host: vm.host, reason: `${vm.name}'s host ${vm.host} is not in the inventory` });
      continue;
    }
    if (vm.state !== 'running' && vm.state !== 'paused') {
      blockers.push({ vm: vm.name, vmId: vm.id, host: from.name, reason: `${vm.name} is ${vm.state}: only a running VM can be live-migrated` });
      continue;
    }
    const f = fit(vm, home, view, incoming);
    if (!f.ok) {
      blockers.push({ vm: vm.name, vmId: vm.id, host: from.name, reason: `cannot go back to ${home.name}: ${f.reason}` });
      continue;
    }
    incoming.push(vm);
    placed.push({ vm, from, to: home });
  }
  const ordered = bestOrder(placed, opts);
  return { hosts: [home.name], hostIds: [home.id], steps: ordered.steps, blockers, etaMs: ordered.etaMs, orderReason: ordered.reason, headroom: opts.headroom ?? DEFAULT_HEADROOM };
}
