// The simulation's clock. It only runs while there is work (an active migration or a
// sleeper), so an idle world holds no timer and a test process can exit.
//  - 'virtual': steps of stepMs virtual time, as fast as the CPU allows, yielding to the
//    event loop (setImmediate) after every step so that promise callbacks (the engine
//    reacting to samples and results) run between steps. An idle world with sleepers
//    jumps straight to the next wake-up.
//  - a number N: a 50 ms wall-clock timer advances 50*N ms of virtual time per tick. When
//    the work of a tick cannot keep up (huge N, many migrations), at most MAX_STEPS_PER_TICK
//    steps run and the clock falls behind N times real time rather than freezing the app.

export type ClockMode = 'virtual' | number;

const TICK_MS = 50;
const MAX_STEPS_PER_TICK = 2000;

export interface ClockHooks {
  /** Advances the simulation over [t0, t0 + dt). */
  step(t0: number, dt: number): void;
  /** True while something must be simulated step by step. */
  busy(): boolean;
}

interface Sleeper {
  at: number;
  wake: () => void;
  fail: (e: Error) => void;
}

export class SimClock {
  private t = 0;
  private sleepers: Sleeper[] = [];
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private anchorWall = performance.now();
  private anchorVirtual = 0;
  private disposed = false;

  constructor(
    readonly mode: ClockMode,
    readonly stepMs: number,
    private readonly hooks: ClockHooks,
  ) {}

  now(): number {
    if (this.mode !== 'virtual' && this.timer === null) return Math.max(this.t, this.target());
    return this.t;
  }

  /** Resolves once the virtual clock has advanced by ms; rejects if the clock is disposed first. */
  sleep(ms: number): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('the simulation was stopped'));
    return new Promise((resolve, reject) => {
      this.sleepers.push({ at: this.now() + Math.max(0, ms), wake: resolve, fail: reject });
      this.kick();
    });
  }

  get stopped(): boolean {
    return this.disposed;
  }

  /** Something may have become busy: make sure the clock runs. */
  kick(): void {
    if (this.disposed) return;
    if (this.mode === 'virtual') {
      this.immediate ??= setImmediate(this.runVirtual);
    } else if (this.timer === null) {
      this.t = this.now();
      this.anchor();
      this.timer = setInterval(this.runRealTime, TICK_MS);
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearInterval(this.timer);
    this.immediate = null;
    this.timer = null;
    for (const s of this.sleepers.splice(0)) s.fail(new Error('the simulation was stopped'));
  }

  private target(): number {
    return this.anchorVirtual + (performance.now() - this.anchorWall) * (this.mode as number);
  }

  private anchor(): void {
    this.anchorWall = performance.now();
    this.anchorVirtual = this.t;
  }

  private readonly runVirtual = () => {
    this.immediate = null;
    if (this.disposed) return;
    if (this.hooks.busy()) this.advance();
    else if (this.sleepers.length > 0) this.t = Math.max(this.t, Math.min(...this.sleepers.map((s) => s.at)));
    else return; // idle: stop until kicked
    this.wakeSleepers();
    this.immediate = setImmediate(this.runVirtual);
  };

  private readonly runRealTime = () => {
    if (this.disposed) return;
    const target = this.target();
    let steps = 0;
    while (this.hooks.busy() && this.t + this.stepMs <= target && steps++ < MAX_STEPS_PER_TICK) {
      this.advance();
      this.wakeSleepers();
    }
    if (steps > MAX_STEPS_PER_TICK) this.anchor(); // fell behind: slow down rather than catch up
    if (!this.hooks.busy()) this.t = Math.max(this.t, target);
    this.wakeSleepers();
    if (!this.hooks.busy() && this.sleepers.length === 0) {
      clearInterval(this.timer!);
      this.timer = null;
      this.anchor();
    }
  };

  private advance(): void {
    const t0 = this.t;
    this.hooks.step(t0, this.stepMs);
    this.t = t0 + this.stepMs;
  }

  private wakeSleepers(): void {
    if (this.sleepers.length === 0) return;
    const due = this.sleepers.filter((s) => s.at <= this.t);
    if (due.length === 0) return;
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.wake();
  }
}
