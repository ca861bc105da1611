// Many migrations at once, predicted as a schedule over time: they queue under the
// concurrency limits (the engine's own FairQueue decides who starts), and those running
// share each NIC max-min fairly, re-shared whenever one starts or ends. Each migration
// advances at 1 / (its predicted time at its current share), a fluid model: between two
// events the shares are constant, so the schedule is exact for the model's own figures.
import type { Host, Policy, Strategy, StrategyChoice, Vm } from '../../preload/model';
import type { DriverCalibration } from './constants';
import { fairShares, type Flow } from './links';
import { chooseAuto, predict, predictStrategies } from './predict';
import { FairQueue, type Limits } from './queue';

export interface ScheduleInput {
  id: string;
  vm: Vm;
  from: Host;
  to: Host;
  strategy: StrategyChoice;
  policy: Policy;
  calibration?: DriverCalibration;
  /**
   * A move already running: it ends this long from now (its own live ETA) whatever its
   * share, and keeps its strategy. Such inputs go first, as they hold their slots already.
   */
  remainingMs?: number;
}

export interface ScheduledMove {
  id: string;
  /** The strategy used: auto's choice at the share the migration gets when it starts. */
  strategy: Strategy;
  /** Why that strategy (auto's reason), or the prediction's note. */
  reason: string;
  converges: boolean;
  /** Predicted start and end, ms after the first start. */
  startMs: number;
  endMs: number;
  /** The pause, at the share the migration has when it ends. */
  downtimeMs: number;
}

export interface Schedule {
  moves: ScheduledMove[];
  /** When the last one ends, ms. */
  etaMs: number;
}

interface Running {
  input: ScheduleInput;
  move: ScheduledMove;
  /** Share of its work done, 0..1. */
  done: number;
  /** Predicted time at the current share, ms. */
  timeMs: number;
}

const EPS = 1e-9;

/** The model's figure at this share; shares are rounded to 0.1 MiB/s so repeats are cached. */
function predictor() {
  const cache = new Map<string, ReturnType<typeof predict>>();
  return (x: ScheduleInput, strategy: Strategy, share: number) => {
    const bw = Math.max(0.1, Math.round(share * 10) / 10);
    const key = `${x.id}:${strategy}:${bw}`;
    let p = cache.get(key);
    if (!p) cache.set(key, (p = predict(x.vm, x.from, x.to, strategy, x.policy, { bandwidthMiBps: bw, calibration: x.calibration })));
    return p;
  };
}

export function predictSchedule(inputs: readonly ScheduleInput[], limits: Limits): Schedule {
  const queue = new FairQueue<{ id: string; fromId: string; toId: string; input: ScheduleInput }>({ ...limits });
  for (const input of inputs) queue.push({ id: input.id, fromId: input.from.id, toId: input.to.id, input });
  const nic = new Map<string, number>();
  for (const x of inputs) {
    nic.set(x.from.id, x.from.nicMiBps);
    nic.set(x.to.id, x.to.nicMiBps);
  }
  const topo = { nicMiBps: (h: string) => nic.get(h) ?? 0, pathCapMiBps: () => undefined };
  const at = predictor();
  const running: Running[] = [];
  const moves = new Map<string, ScheduledMove>();
  let t = 0;
  for (;;) {
    const started: Running[] = [];
    for (let q = queue.next(); q; q = queue.next()) {
      const move: ScheduledMove = { id: q.id, strategy: 'precopy', reason: '', converges: true, startMs: t, endMs: t, downtimeMs: 0 };
      const r: Running = { input: q.input, move, done: 0, timeMs: Infinity };
      running.push(r);
      started.push(r);
      moves.set(q.id, move);
    }
    if (!running.length) break;
    const flows: Flow[] = running.map((r) => ({ src: r.input.from.id, dst: r.input.to.id, cap: r.input.policy.bandwidthMiBps }));
    const shares = fairShares(flows, topo);
    running.forEach((r, i) => {
      const share = shares[i]!;
      if (r.input.remainingMs !== undefined) {
        if (started.includes(r)) {
          r.move.strategy = r.input.strategy === 'auto' ? 'precopy' : r.input.strategy;
          r.timeMs = Math.max(1, r.input.remainingMs);
        }
        return;
      }
      if (started.includes(r)) {
        // As the engine does: auto decides once, at the share the migration starts with.
        const x = r.input;
        if (x.strategy === 'auto') {
          const by = predictStrategies(x.vm, x.from, x.to, x.policy, { bandwidthMiBps: Math.max(0.1, share), calibration: x.calibration });
          const auto = chooseAuto(by, x.policy);
          r.move.strategy = auto.strategy;
          r.move.reason = auto.reason;
        } else {
          r.move.strategy = x.strategy;
        }
      }
      const p = at(r.input, r.move.strategy, share);
      r.timeMs = Math.max(1, p.totalMs);
      r.move.converges = p.converges;
      r.move.downtimeMs = p.downtimeMs;
      if (!r.move.reason) r.move.reason = p.note;
    });
    // Advance to the next end.
    let dt = Infinity;
    for (const r of running) dt = Math.min(dt, (1 - r.done) * r.timeMs);
    t += dt;
    for (let i = running.length - 1; i >= 0; i--) {
      const r = running[i]!;
      r.done += dt / r.timeMs;
      if (r.done >= 1 - EPS) {
        r.move.endMs = t;
        running.splice(i, 1);
        queue.finished({ id: r.move.id, fromId: r.input.from.id, toId: r.input.to.id, input: r.input });
      }
    }
  }
  const out = inputs.map((x) => moves.get(x.id)!);
  return { moves: out, etaMs: out.reduce((m, x) => Math.max(m, x.endMs), 0) };
}
