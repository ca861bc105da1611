// Calibration against real QEMU, fitted on one set of workloads and reported on another.
//  - FIT set: every guest booted alone (no other guest loading the two cores), migrated
//    twice with strategy auto (its first migration after boot, then a repeated one), each
//    predicted first. From these runs the bench fits QEMU's figures: setup time against
//    guest memory and memory the source never touched, unmapped (least squares on the time
//    from Ferry's start to QEMU's first page: the destination QEMU's start, then QEMU's own
//    setup-time), then the stream's efficiency under a cap, its top rate, and the rate of
//    the first pass's walk of unmapped memory (the grid that minimises the
//    mean |log(predicted / actual)| of total time). It prints the calibration it fitted.
//  - HELD-OUT set: workloads never used to fit or to design the model (sizes 256 MiB to
//    2 GiB, working sets 5 % to 57 %, dirty rates 5 % to 286 % of the cap, with and without
//    a cap, sweeping and random-writing guests), predicted with the calibration fitted in
//    the same run (QEMU_BENCH_SET=held-out: with the committed QEMU_LAB_CALIBRATION), first and
//    repeated migrations as separate rows. The accuracy figures are these rows only.
// The anchor, on the held-out set in the same run: each workload is also migrated with
// QEMU's plain policies through the QEMU driver directly (no engine): its defaults
// (pre-copy, downtime-limit 300 ms, no auto-converge), auto-converge alone (QEMU's own
// throttle steps 20 % +10 %, at most 99 %), and post-copy switched on once
// dirty-sync-count reaches 2 (the first full pass sent), each bounded by PLAIN_TIMEOUT_MS.
// Like is compared with like: every policy runs on a guest booted for it, first after boot
// and then again at once, as auto does; the table puts auto beside them with the ratio of
// times, first against first and repeated against repeated. (A first migration after boot
// used to run up to 2.4x its repeat: the destination faulted in memory this machine's
// hypervisor had taken back, and the guest carried TCG's boot-time TLB. The lab now
// preallocates the destination and settles the TLB; the two rows show whether they agree.)
// Each held-out migration's ETA (what the console shows while it runs) is read every 200 ms
// and set against the wall-clock time from its start to its end: the table bench/eta prints.
// QEMU_FIT_RECORDS=<file> writes the fit set's runs there (or, if it exists, fits from it
// without running them again). Skips, saying why, when qemu-system-x86_64 is not installed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationEngine } from '../main/engine/engine';
import { predict } from '../main/engine/predict';
import { predictionInterval } from '../main/engine/learn';
import { resolvePolicy } from '../main/engine/policy';
import type { DriverCalibration } from '../main/engine/driver';
import { QemuDriver } from '../main/qemu/driver';
import { guestZeroFraction, QEMU_LAB_CALIBRATION, QEMU_GUEST_FOOTPRINT, type GuestFootprint } from '../main/qemu/calibration';
import { labAddVm, labDown, labRemoveVm, labUp } from '../main/qemu/lab';
import type { VmSpec } from '../main/qemu/guest';
import { readLab } from '../main/qemu/lab-state';
import { QmpClient } from '../main/qemu/qmp';
import { labRunner } from '../main/qemu/lab';
import type { QemuDriverResult } from '../main/qemu/migration';
import type { Host, Policy, Strategy, Vm } from '../preload/model';
import { etaErrors, etaTable, median, nullRecorder, pad, pct, qemuPresent, relErr, secs, signed } from './common';
import { watchMigration } from '../test/unit/engine-fake-driver';

/** Wall-clock time between two reads of a running migration's ETA. */
const ETA_READ_MS = 200;
/** QEMU_ETA_DUMP=<file>: each auto run's progress reads, a JSON line per migration (to study the ETA). */
const ETA_DUMP = process.env.QEMU_ETA_DUMP;

interface Workload {
  spec: VmSpec;
  /** max-bandwidth, MiB/s; null: none (the lab's nominal NIC). */
  capMiBps: number | null;
}

// The fit set. The first nine are the grid the earlier calibration was fitted on; the six
// h-* were the earlier held-out set, which the model's design has since looked at, so they
// now count as fitted; three more widen the sizes and add random-writing guests.
const FIT: Workload[] = [
  { spec: { name: 'idle', mem: 512, wss: 16, rate: 0, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'small', mem: 512, wss: 64, rate: 10, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'medium', mem: 512, wss: 128, rate: 20, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'busy', mem: 512, wss: 128, rate: 80, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'slowlink', mem: 512, wss: 256, rate: 20, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'big', mem: 1024, wss: 192, rate: 30, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'over', mem: 512, wss: 192, rate: 150, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'hot', mem: 512, wss: 256, rate: 400, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'scorch', mem: 512, wss: 128, rate: 300, vcpus: 1 }, capMiBps: 50 },
  { spec: { name: 'h-nocap', mem: 512, wss: 96, rate: 30, vcpus: 1 }, capMiBps: null },
  { spec: { name: 'h-tiny', mem: 512, wss: 64, rate: 10, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'h-mid60', mem: 512, wss: 128, rate: 60, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'h-slow32', mem: 512, wss: 300, rate: 250, vcpus: 1 }, capMiBps: 32 },
  { spec: { name: 'h-768', mem: 768, wss: 160, rate: 45, vcpus: 1 }, capMiBps: 150 },
  { spec: { name: 'h-cliff', mem: 512, wss: 224, rate: 90, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'f-rand', mem: 512, wss: 128, rate: 40, vcpus: 1, order: 'random' }, capMiBps: 100 },
  { spec: { name: 'f-rand-nocap', mem: 1024, wss: 256, rate: 50, vcpus: 1, order: 'random' }, capMiBps: null },
  { spec: { name: 'f-1536', mem: 1536, wss: 200, rate: 20, vcpus: 1 }, capMiBps: 200 },
  // The second held-out set (2026-12-07), reported on once with the calibration fitted
  // above it (total time |error| median 7.7 %, p90 51.8 %); the model's booted-source term
  // was designed from what it showed, so it is fitted on now.
  { spec: { name: 'n-256r', mem: 256, wss: 64, rate: 20, vcpus: 1, order: 'random' }, capMiBps: 100 },
  { spec: { name: 'n-2g', mem: 2048, wss: 256, rate: 30, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'n-2g-big', mem: 2048, wss: 1800, rate: 40, vcpus: 1, order: 'random' }, capMiBps: null },
  { spec: { name: 'n-hot-r', mem: 512, wss: 400, rate: 150, vcpus: 1, order: 'random' }, capMiBps: 50 },
  { spec: { name: 'n-1g-r', mem: 1024, wss: 300, rate: 60, vcpus: 1, order: 'random' }, capMiBps: 100 },
  { spec: { name: 'n-tiny5', mem: 1024, wss: 52, rate: 5, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'n-cliff-r', mem: 512, wss: 200, rate: 85, vcpus: 1, order: 'random' }, capMiBps: 100 },
  { spec: { name: 'n-nocap-r', mem: 768, wss: 128, rate: 100, vcpus: 1, order: 'random' }, capMiBps: null },
  // The third held-out set (2026-12-07), reported on in two sessions; the hybrid strategy's
  // first-pass judgement was designed from what m-near and m-1280-r showed, so all eight
  // are fitted on now.
  { spec: { name: 'm-384s', mem: 384, wss: 96, rate: 25, vcpus: 1 }, capMiBps: 80 },
  { spec: { name: 'm-1g-nocap', mem: 1024, wss: 600, rate: 30, vcpus: 1, order: 'random' }, capMiBps: null },
  { spec: { name: 'm-1536-r', mem: 1536, wss: 400, rate: 70, vcpus: 1, order: 'random' }, capMiBps: 150 },
  { spec: { name: 'm-hot-s', mem: 768, wss: 300, rate: 200, vcpus: 1 }, capMiBps: 80 },
  { spec: { name: 'm-near', mem: 640, wss: 256, rate: 75, vcpus: 1, order: 'random' }, capMiBps: 90 },
  { spec: { name: 'm-2g-mid', mem: 2048, wss: 900, rate: 20, vcpus: 1 }, capMiBps: 250 },
  { spec: { name: 'm-tiny-nocap', mem: 512, wss: 32, rate: 2, vcpus: 1 }, capMiBps: null },
  { spec: { name: 'm-1280-r', mem: 1280, wss: 160, rate: 120, vcpus: 1, order: 'random' }, capMiBps: 120 },
  // The fourth held-out set (2026-12-07), reported on in one session; the lab's fix for
  // fresh destination memory was found while reading what it showed, so it is fitted on now.
  { spec: { name: 'p-320-hot', mem: 320, wss: 160, rate: 120, vcpus: 1 }, capMiBps: 60 }, // 200 %, 50 %
  { spec: { name: 'p-640-nocap', mem: 640, wss: 48, rate: 10, vcpus: 1 }, capMiBps: null }, // no cap, 8 %
  { spec: { name: 'p-896-r', mem: 896, wss: 320, rate: 85, vcpus: 1, order: 'random' }, capMiBps: 100 }, // 85 %, 36 %
  { spec: { name: 'p-1792-r', mem: 1792, wss: 500, rate: 40, vcpus: 1, order: 'random' }, capMiBps: 180 }, // 22 %, 28 %
  { spec: { name: 'p-1280-nocap-r', mem: 1280, wss: 200, rate: 60, vcpus: 1, order: 'random' }, capMiBps: null }, // no cap, 16 %
  { spec: { name: 'p-448-s', mem: 448, wss: 300, rate: 50, vcpus: 1 }, capMiBps: 120 }, // 42 %, 67 %
  { spec: { name: 'p-1g-slow', mem: 1024, wss: 128, rate: 20, vcpus: 1 }, capMiBps: 40 }, // 50 %, 13 %
  { spec: { name: 'p-576-r', mem: 576, wss: 96, rate: 5, vcpus: 1, order: 'random' }, capMiBps: 200 }, // 2.5 %, 17 %
  // The fifth held-out set (2026-12-07, fourth session), reported on once with the
  // calibration fitted above it (total time |error| median 6.3 %, p90 20.2 %; bytes median
  // 12.5 %, p90 30.3 %); the guest footprint's fit was designed from its bytes, so it is
  // fitted on now.
  { spec: { name: 'q-256-s', mem: 256, wss: 128, rate: 60, vcpus: 1 }, capMiBps: 80 }, // 75 %, 50 %
  { spec: { name: 'q-1536-nocap', mem: 1536, wss: 96, rate: 15, vcpus: 1 }, capMiBps: null }, // no cap, 6 %
  { spec: { name: 'q-768-r', mem: 768, wss: 640, rate: 25, vcpus: 1, order: 'random' }, capMiBps: 120 }, // 21 %, 83 %
  { spec: { name: 'q-2g-r', mem: 2048, wss: 300, rate: 90, vcpus: 1, order: 'random' }, capMiBps: 220 }, // 41 %, 15 %
  { spec: { name: 'q-512-hot-r', mem: 512, wss: 200, rate: 180, vcpus: 1, order: 'random' }, capMiBps: 60 }, // 300 %, 39 %
  { spec: { name: 'q-1152-s', mem: 1152, wss: 460, rate: 100, vcpus: 1 }, capMiBps: 110 }, // 91 %, 40 %
  { spec: { name: 'q-384-nocap-r', mem: 384, wss: 192, rate: 120, vcpus: 1, order: 'random' }, capMiBps: null }, // no cap, 50 %
  { spec: { name: 'q-960-slow', mem: 960, wss: 64, rate: 3, vcpus: 1 }, capMiBps: 30 }, // 10 %, 7 %
];

// Held out: the sixth set, chosen (2026-12-07, fourth session) before any of them was run,
// never used to fit or to design the model. Rate / cap and working set / memory in the comments.
const HELD_OUT: Workload[] = [
  { spec: { name: 'r-320-r', mem: 320, wss: 96, rate: 30, vcpus: 1, order: 'random' }, capMiBps: 50 }, // 60 %, 30 %
  { spec: { name: 'r-1792-nocap', mem: 1792, wss: 400, rate: 40, vcpus: 1 }, capMiBps: null }, // no cap, 22 %
  { spec: { name: 'r-640-hot', mem: 640, wss: 320, rate: 200, vcpus: 1 }, capMiBps: 70 }, // 286 %, 50 %
  { spec: { name: 'r-1280-r', mem: 1280, wss: 700, rate: 50, vcpus: 1, order: 'random' }, capMiBps: 160 }, // 31 %, 55 %
  { spec: { name: 'r-2g-tiny', mem: 2048, wss: 100, rate: 5, vcpus: 1 }, capMiBps: 100 }, // 5 %, 5 %
  { spec: { name: 'r-896-cliff-r', mem: 896, wss: 300, rate: 95, vcpus: 1, order: 'random' }, capMiBps: 100 }, // 95 %, 33 %
  { spec: { name: 'r-448-nocap', mem: 448, wss: 256, rate: 150, vcpus: 1 }, capMiBps: null }, // no cap, 57 %
  { spec: { name: 'r-1g-s', mem: 1024, wss: 200, rate: 40, vcpus: 1 }, capMiBps: 60 }, // 67 %, 20 %
];

const WANT = process.env.QEMU_BENCH_SET ?? 'all';
/** QEMU_BENCH_ANCHOR=off: the held-out set's accuracy alone, without QEMU's plain policies beside auto (a fifth of the time). */
const ANCHOR = process.env.QEMU_BENCH_ANCHOR !== 'off';
if (!['all', 'fit', 'held-out'].includes(WANT)) {
  console.error(`QEMU_BENCH_SET must be all, fit or held-out (not ${WANT})`);
  process.exit(2);
}

/** A plain policy that has not finished by then is cancelled and reported unfinished. */
const PLAIN_TIMEOUT_MS = 30_000;

interface PlainPolicy {
  name: string;
  strategy: Strategy;
  autoConverge: boolean;
  /** Call migrate-start-postcopy once dirty-sync-count reaches this. */
  postcopyAtSyncCount?: number;
}

const PLAIN: PlainPolicy[] = [
  { name: 'qemu-default', strategy: 'precopy', autoConverge: false },
  { name: 'auto-converge', strategy: 'precopy', autoConverge: true },
  { name: 'postcopy@2', strategy: 'postcopy', autoConverge: false, postcopyAtSyncCount: 2 },
];

interface PlainOutcome {
  finished: boolean;
  totalMs: number;
  downtimeMs: number | null;
  bytes: number;
  switchedToPostcopy: boolean;
  note: string;
}

interface AnchorRow {
  name: string;
  capMiBps: number | null;
  rate: number;
  /** Auto, first migration after boot. */
  auto: RunOutcome;
  /** Auto again at once (a guest that has migrated before). */
  auto2: RunOutcome;
  /** Auto with the policy's 'prefer speed' (post-copy whenever predicted faster), first after boot. */
  speed: RunOutcome;
  /** Each plain policy on a guest of its own, first after boot ... */
  plain: PlainOutcome[];
  /** ... and again at once, null where the first did not finish (the guest had not moved). */
  plainAgain: (PlainOutcome | null)[];
}

interface RunOutcome {
  strategy: string;
  finished: boolean;
  totalMs: number;
  downtimeMs: number | null;
  bytes: number;
}

/** One plain-QEMU migration of vmId to the other lab host, through the driver alone. */
async function plainRun(dataDir: string, driver: QemuDriver, vmId: string, pp: PlainPolicy, capMiBps: number | null): Promise<PlainOutcome> {
  const lab = readLab(dataDir)!;
  const vm = lab.vms.find((v) => v.id === vmId)!;
  const to = vm.host === 'lab-h1' ? 'lab-h2' : 'lab-h1';
  const policy: Policy = resolvePolicy({ bandwidthMiBps: capMiBps, downtimeLimitMs: 300, timeoutS: PLAIN_TIMEOUT_MS / 1000, autoConverge: pp.autoConverge });
  const mig = driver.migrate({ vmId, fromId: vm.host, toId: to, strategy: pp.strategy, policy });
  let tuned = false;
  let switched = false;
  mig.onSample((s) => {
    if (s.phase !== 'precopy') return;
    if (pp.autoConverge && !tuned) {
      // The driver leaves the throttle to the engine (1 % steps until asked); plain QEMU
      // throttles by itself with its defaults: set them once the migration runs.
      tuned = true;
      void setQemuThrottleDefaults(dataDir, vm.mon);
    }
    // round = dirty-sync-count - 1
    if (pp.postcopyAtSyncCount !== undefined && !switched && s.round + 1 >= pp.postcopyAtSyncCount) {
      switched = true;
      mig.startPostcopy();
    }
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    mig.cancel();
  }, PLAIN_TIMEOUT_MS);
  const r = (await mig.done) as QemuDriverResult;
  clearTimeout(timer);
  const finished = r.outcome === 'completed';
  return {
    finished,
    totalMs: r.totalMs,
    downtimeMs: finished ? r.downtimeMs : null,
    bytes: r.bytes,
    switchedToPostcopy: switched && finished && (r.postcopyFaults !== null),
    note: finished ? '' : timedOut ? `unfinished after ${PLAIN_TIMEOUT_MS / 1000} s` : `${r.outcome}: ${r.reason ?? ''}`,
  };
}

async function setQemuThrottleDefaults(dataDir: string, mon: string): Promise<void> {
  const qmp = await QmpClient.connectWithRetry(labRunner(dataDir).qmpTarget(mon), 3000);
  try {
    await qmp.execute('migrate-set-parameters', { 'cpu-throttle-initial': 20, 'cpu-throttle-increment': 10, 'max-cpu-throttle': 99 });
  } catch {
    // the migration ended first
  } finally {
    qmp.close();
  }
}



/** One migration of the fit set, with what its prediction stood on. */
interface FitRecord {
  name: string;
  first: boolean;
  vm: Vm;
  from: Host;
  to: Host;
  policy: Policy;
  strategy: Strategy;
  completed: boolean;
  totalMs: number;
  downtimeMs: number | null;
  bytes: number;
  /** From Ferry's start to the first page sent: the destination QEMU's start and QEMU's setup-time, ms. */
  setupMs: number | null;
  /** Of which the destination QEMU's start, ms. */
  destStartMs: number | null;
}

/** One held-out migration: prediction and outcome. */
interface HeldRow {
  name: string;
  order: string;
  first: boolean;
  capMiBps: number | null;
  strategy: string;
  measuredMiBps: number | null;
  residentMiB: number | null;
  pred: { converges: boolean; totalMs: number; downtimeMs: number; bytes: number; range?: { totalMs: [number, number] } };
  predMeasuredMs: number | null;
  /** The ETA shown while it ran, its errors by ETA_WINDOWS (bench/common.ts): against the whole wall-clock time, and against the copy's own. */
  etaErrs: number[][];
  copyEtaErrs: number[][];
  outcome: string;
  reason: string | null;
  totalMs: number;
  downtimeMs: number | null;
  bytes: number;
}

type Lab = { dataDir: string; driver: QemuDriver; engine: MigrationEngine; qemuOf: Map<string, QemuDriverResult['qemu']> };

function openLab(dataDir: string, calibration: DriverCalibration, footprint: GuestFootprint = QEMU_GUEST_FOOTPRINT): Lab {
  const driver = new QemuDriver({ dataDir, calibration, footprint });
  // QEMU's own figures of each migration (setup-time, the destination's start): the engine keeps only its record.
  const qemuOf = new Map<string, QemuDriverResult['qemu']>();
  const migrate = driver.migrate.bind(driver);
  driver.migrate = (spec) => {
    const m = migrate(spec);
    void m.done.then((r) => qemuOf.set(spec.vmId, r.qemu));
    return m;
  };
  // The model alone: learning from the bench's own runs would mix the sets (bench/qemu-learning measures learning).
  const engine = new MigrationEngine({ drivers: [driver], recorder: nullRecorder, startedBy: 'bench', learn: false });
  return { dataDir, driver, engine, qemuOf };
}

function closeLab(lab: Lab): void {
  lab.engine.dispose();
  lab.driver.dispose();
}

function otherHost(lab: Lab, vmId: string): string {
  return lab.driver.inventory().vms.find((v) => v.id === vmId)!.host === 'lab-h1' ? 'lab-h2' : 'lab-h1';
}

/** One auto migration through the engine, predicted first; what the prediction saw, and what happened. */
async function autoRun(lab: Lab, w: Workload, overrides: { preferSpeed?: boolean } = {}) {
  const policy = { bandwidthMiBps: w.capMiBps, downtimeLimitMs: 300, timeoutS: 60, ...overrides };
  const to = otherHost(lab, w.spec.name);
  const p = lab.engine.predict(w.spec.name, to, 'auto', policy);
  const inv = lab.driver.inventory();
  const vm = inv.vms.find((v) => v.id === w.spec.name)!;
  const from = inv.hosts.find((h) => h.id === vm.host)!;
  const toHost = inv.hosts.find((h) => h.id === to)!;
  lab.qemuOf.delete(w.spec.name);
  const t0 = Date.now();
  const [rec] = lab.engine.start({ vms: [w.spec.name], to, strategy: 'auto', policy });
  // The ETA the console and the CLI show, read while it runs (every ETA_READ_MS of wall clock),
  // against the wall-clock time from the start to the end: the clock of the progress's elapsed
  // time and of the record's total (both count the destination QEMU's start).
  const { record: r, reads, wallMs: takenMs } = await watchMigration(lab.engine, rec!.id, () => new Promise((res) => setTimeout(res, ETA_READ_MS)), t0);
  if (ETA_DUMP) {
    const line = { name: w.spec.name, predicted: rec!.predicted, wssMiB: vm.workload.wssMiB, strategy: r.strategy, outcome: r.outcome, totalMs: r.totalMs, takenMs, progress: reads };
    fs.appendFileSync(ETA_DUMP, JSON.stringify(line) + '\n');
  }
  for (let i = 0; i < 40 && !lab.qemuOf.has(w.spec.name); i++) await new Promise((res) => setTimeout(res, 25));
  // The copy's start: the first read past setup (the lab starts the destination's QEMU before it).
  const copyFromMs = reads.find((p) => p.phase !== 'setup')?.elapsedMs ?? 0;
  return { p, vm, from, to: toHost, policy: resolvePolicy(policy), r, qemu: lab.qemuOf.get(w.spec.name) ?? null, reads, takenMs, copyFromMs };
}

async function withGuest<T>(lab: Lab, w: Workload, fn: () => Promise<T>): Promise<T> {
  await labAddVm(lab.dataDir, { ...w.spec, host: 'lab-h1' }, { bootTimeoutMs: 120_000 });
  try {
    return await fn();
  } finally {
    await labRemoveVm(lab.dataDir, w.spec.name);
  }
}

async function runFitSet(lab: Lab, have: FitRecord[] = []): Promise<FitRecord[]> {
  const out: FitRecord[] = [...have];
  const todo = FIT.filter((w) => !have.some((r) => r.name === w.spec.name));
  console.log(`FIT set: ${FIT.length} workloads, each booted alone and migrated twice with auto (first after boot, then repeated); ${todo.length} to run, ${FIT.length - todo.length} read from the records file`);
  for (const w of todo) {
    await withGuest(lab, w, async () => {
      for (const first of [true, false]) {
        const x = await autoRun(lab, w);
        const rec: FitRecord = {
          name: w.spec.name, first, vm: x.vm, from: x.from, to: x.to, policy: x.policy, strategy: x.p.auto.strategy as Strategy,
          completed: x.r.outcome === 'completed', totalMs: x.r.totalMs ?? NaN, downtimeMs: x.r.downtimeMs, bytes: x.r.bytes, setupMs: x.qemu?.setupTimeMs != null && x.qemu.destinationStartMs != null ? x.qemu.destinationStartMs + x.qemu.setupTimeMs : null,
          destStartMs: x.qemu?.destinationStartMs ?? null,
        };
        out.push(rec);
        console.log(
          `  fit ${w.spec.name.padEnd(13)} ${(first ? 'first' : 'repeated').padEnd(8)} resident ${pad(x.vm.workload.residentMiB ?? '?', 5)}/${pad(x.vm.memoryMiB, 5)} MiB ${rec.strategy.padEnd(8)} ${x.r.outcome.padEnd(9)}` +
            ` T ${pad(secs(rec.totalMs), 7)} DT ${pad(ms(rec.downtimeMs), 7)} setup ${pad(ms(rec.setupMs), 7)} (destination ${pad(ms(rec.destStartMs), 7)}) ${(rec.bytes / 2 ** 20).toFixed(0)} MiB`,
        );
      }
    });
  }
  return out;
}

/** Least squares for y = a + b x1 + c x2 (Cramer's rule on the normal equations). */
function linearFit(rows: { y: number; x1: number; x2: number }[]): [number, number, number] {
  const S = (f: (r: { y: number; x1: number; x2: number }) => number) => rows.reduce((acc, r) => acc + f(r), 0);
  const m = [
    [rows.length, S((r) => r.x1), S((r) => r.x2)],
    [S((r) => r.x1), S((r) => r.x1 * r.x1), S((r) => r.x1 * r.x2)],
    [S((r) => r.x2), S((r) => r.x1 * r.x2), S((r) => r.x2 * r.x2)],
  ];
  const v = [S((r) => r.y), S((r) => r.x1 * r.y), S((r) => r.x2 * r.y)];
  const det = (a: number[][]) => a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!) - a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) + a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!);
  const d = det(m);
  const col = (i: number) => m.map((row, k) => row.map((x, j) => (j === i ? v[k]! : x)));
  return [det(col(0)) / d, det(col(1)) / d, det(col(2)) / d];
}

/** Setup time against guest memory (x1, GiB) and memory unmapped on the source (x2, GiB), least squares; a negative fixed part means nothing: then the two per-GiB parts alone. */
function setupFit(rows: { y: number; x1: number; x2: number }[]): Pick<DriverCalibration, 'setupMs' | 'setupMsPerGiB' | 'setupMsPerNonResidentGiB'> {
  let [a, b, c] = linearFit(rows);
  if (a < 0) [a, b, c] = [0, ...originFit(rows)];
  return { setupMs: Math.max(0, Math.round(a)), setupMsPerGiB: Math.max(0, Math.round(b)), setupMsPerNonResidentGiB: Math.max(0, Math.round(c)) };
}

/** Least squares for y = b x1 + c x2 (no fixed part). */
function originFit(rows: { y: number; x1: number; x2: number }[]): [number, number] {
  const S = (f: (r: { y: number; x1: number; x2: number }) => number) => rows.reduce((acc, r) => acc + f(r), 0);
  const [p, q, r] = [S((x) => x.x1 * x.x1), S((x) => x.x1 * x.x2), S((x) => x.x2 * x.x2)];
  const [u, v] = [S((x) => x.x1 * x.y), S((x) => x.x2 * x.y)];
  const d = p * r - q * q;
  return [(u * r - q * v) / d, (p * v - q * u) / d];
}

function logErr(recs: FitRecord[], cal: DriverCalibration): number {
  let sum = 0;
  let n = 0;
  for (const r of recs) {
    if (!r.completed) continue;
    const p = predict(r.vm, r.from, r.to, r.strategy, r.policy, { calibration: cal });
    sum += Math.abs(Math.log(Math.max(1, p.totalMs) / Math.max(1, r.totalMs)));
    n++;
  }
  return n ? sum / n : Infinity;
}

/** The records with the guest's zero share as the QEMU driver would give it with this footprint. */
function withFootprint(recs: FitRecord[], fp: GuestFootprint): FitRecord[] {
  return recs.map((r) => ({ ...r, vm: { ...r.vm, workload: { ...r.vm.workload, zeroFraction: guestZeroFraction(r.vm.memoryMiB, r.vm.workload.wssMiB, fp) } } }));
}

/**
 * The guest's non-zero memory besides its working set, from the bytes the FIT set's
 * migrations sent: the footprint (fixed + per GiB) with the least mean |log error| of bytes.
 */
function fitFootprint(recs: FitRecord[]): GuestFootprint {
  let best = { err: Infinity, fp: QEMU_GUEST_FOOTPRINT };
  for (let fixedMiB = 0; fixedMiB <= 200; fixedMiB += 4) {
    for (let perGiBMiB = 0; perGiBMiB <= 60; perGiBMiB += 2) {
      const fp = { fixedMiB, perGiBMiB };
      let sum = 0;
      let n = 0;
      for (const r of withFootprint(recs, fp)) {
        if (!r.completed || !(r.bytes > 0)) continue;
        const p = predict(r.vm, r.from, r.to, r.strategy, r.policy, { calibration: QEMU_LAB_CALIBRATION });
        sum += Math.abs(Math.log(Math.max(1, p.bytes) / r.bytes));
        n++;
      }
      if (n && sum / n < best.err) best = { err: sum / n, fp };
    }
  }
  console.log(`  guest footprint besides the working set: ${best.fp.fixedMiB} MiB + ${best.fp.perGiBMiB} MiB per GiB of memory (grid, mean |log error| of bytes ${best.err.toFixed(3)}; before: ${QEMU_GUEST_FOOTPRINT.fixedMiB} MiB + ${QEMU_GUEST_FOOTPRINT.perGiBMiB} MiB per GiB)`);
  console.log(`  as QEMU_GUEST_FOOTPRINT: ${JSON.stringify(best.fp)}`);
  return best.fp;
}

function fitCalibration(all: FitRecord[]): { cal: DriverCalibration; footprint: GuestFootprint } {
  console.log(`\nfitted on the FIT set (${all.length} migrations):`);
  const footprint = fitFootprint(all);
  const recs = withFootprint(all, footprint);
  const GiB = 2 ** 30;
  const withSetup = recs.filter((r) => r.setupMs !== null && r.setupMs > 0);
  const setupRows = withSetup.map((r) => ({
    y: r.setupMs!, x1: (r.vm.memoryMiB * 2 ** 20) / GiB, x2: (Math.max(0, r.vm.memoryMiB - (r.vm.workload.residentMiB ?? r.vm.memoryMiB)) * 2 ** 20) / GiB,
  }));
  const setup = setupFit(setupRows);
  // QEMU's own part (its setup-time), what a host other than the lab's adds: QEMU_CALIBRATION.
  const qemuSetup = setupFit(setupRows.flatMap((x, i) => (withSetup[i]!.destStartMs === null ? [] : [{ ...x, y: x.y - withSetup[i]!.destStartMs! }])));
  // The cap's efficiency, the top rate and the walk on a grid.
  let best = { err: Infinity, cal: { ...QEMU_LAB_CALIBRATION, ...setup } };
  for (let eff = 0.8; eff <= 1.2001; eff += 0.01) {
    // null: no bound found (faster than any rate on the grid).
    for (const top of [...Array.from({ length: 38 }, (_, i) => 150 + 50 * i), null]) {
      for (const walk of [...Array.from({ length: 59 }, (_, i) => 100 + 50 * i), null]) {
        const cal = { ...QEMU_LAB_CALIBRATION, ...setup, linkEfficiency: Math.round(eff * 100) / 100, streamMaxMiBps: top, nonResidentReadMiBps: walk };
        const err = logErr(recs, cal);
        if (err < best.err) best = { err, cal };
      }
    }
  }
  // The range a prediction carries: the fitted model's error over the whole fit set.
  const cal: DriverCalibration = {
    ...best.cal,
    modelBand: modelBand(recs, best.cal),
  };
  console.log(`  setup (Ferry's start to the first page: the destination's start and QEMU's setup-time) = ${setup.setupMs} ms + ${setup.setupMsPerGiB} ms per GiB of memory + ${setup.setupMsPerNonResidentGiB} ms per GiB unmapped on the source (least squares)`);
  console.log(`  of which QEMU's setup-time = ${qemuSetup.setupMs} ms + ${qemuSetup.setupMsPerGiB} ms per GiB of memory + ${qemuSetup.setupMsPerNonResidentGiB} ms per GiB unmapped on the source (least squares)`);
  const rate = (x: number | null) => (x === null ? 'no bound on the grid' : `${x} MiB/s`);
  console.log(`  link efficiency ${cal.linkEfficiency}, stream top rate ${rate(cal.streamMaxMiBps)}, walk of unmapped memory ${rate(cal.nonResidentReadMiBps)} (grid, mean |log error| ${best.err.toFixed(3)})`);
  const band = cal.modelBand!;
  console.log(`  the model's error on the FIT set, as the range a prediction without history carries: actual/predicted total time ${band.total[0]}-${band.total[1]}, pause ${band.downtime[0]}-${band.downtime[1]} (80 % prediction interval over ${band.n} migrations)`);
  console.log(`  as QEMU_LAB_SETUP: ${JSON.stringify(setup)}`);
  console.log(`  as QEMU_CALIBRATION (QEMU's own setup-time, for hosts other than the lab's): ${JSON.stringify({ ...qemuSetup, linkEfficiency: cal.linkEfficiency, streamMaxMiBps: cal.streamMaxMiBps, nonResidentReadMiBps: cal.nonResidentReadMiBps, modelBand: cal.modelBand })}`);
  for (const [label, c0, rs] of [['the committed QEMU_LAB_CALIBRATION and footprint', QEMU_LAB_CALIBRATION, withFootprint(all, QEMU_GUEST_FOOTPRINT)], ['the calibration and footprint just fitted', cal, recs]] as const) {
    const done = rs.filter((r) => r.completed).map((r) => ({ r, p: predict(r.vm, r.from, r.to, r.strategy, r.policy, { calibration: c0 }) }));
    const e = done.map(({ r, p }) => Math.abs(relErr(p.totalMs, r.totalMs)));
    const b = done.map(({ r, p }) => Math.abs(relErr(p.bytes, r.bytes)));
    console.log(`  FIT set (consistency, not accuracy) with ${label}: total time |error| median ${pct(median(e))}, p90 ${pct(p90(e))}; bytes median ${pct(median(b))}, p90 ${pct(p90(b))}`);
  }
  return { cal, footprint };
}

/**
 * The fitted model's error on the fit set as an 80 % prediction interval of actual / predicted
 * (the statistic learning uses for a link's history): the range a prediction with no history
 * of its own carries. Judged on the held-out set, where 'actual within the stated range' counts it.
 */
function modelBand(recs: FitRecord[], cal: DriverCalibration): NonNullable<DriverCalibration['modelBand']> {
  const total: number[] = [];
  const pause: number[] = [];
  for (const r of recs) {
    if (!r.completed) continue;
    const p = predict(r.vm, r.from, r.to, r.strategy, r.policy, { calibration: { ...cal, modelBand: undefined } });
    if (p.totalMs > 0 && r.totalMs > 0) total.push(r.totalMs / p.totalMs);
    if (p.downtimeMs > 0 && r.downtimeMs !== null && r.downtimeMs > 0) pause.push(r.downtimeMs / p.downtimeMs);
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const t = predictionInterval(total).band;
  const d = predictionInterval(pause).band;
  return { total: [r2(t[0]), r2(t[1])], downtime: [r2(d[0]), r2(d[1])], n: total.length, fittedOn: "TCG guests of Ferry's QEMU lab, first and repeated migrations" };
}

function p90(xs: number[]): number {
  return [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(0.9 * xs.length))] ?? NaN;
}

async function runHeldOut(lab: Lab): Promise<{ rows: HeldRow[]; anchor: AnchorRow[] }> {
  const rows: HeldRow[] = [];
  const anchor: AnchorRow[] = [];
  console.log(
    `\nHELD-OUT set: ${HELD_OUT.length} workloads never used to fit. Per workload, like with like: auto first after boot and again at once;` +
      ` each plain QEMU policy on a guest booted for it, first after boot and again at once; auto with speed preferred on a guest booted for it`,
  );
  console.log(
    `${'workload'.padEnd(10)} ${'order'.padEnd(6)} ${'run'.padEnd(8)} ${pad('mem', 5)} ${pad('wss', 5)} ${pad('rate', 5)} ${pad('meas', 5)} ${pad('resid', 5)} ${pad('cap', 4)} ${'strategy'.padEnd(9)} ${pad('outcome', 9)}` +
      ` ${pad('pred T', 8)} ${pad('real T', 8)} ${pad('err T', 8)} ${pad('range T', 15)} ${pad('pred DT', 8)} ${pad('real DT', 8)} ${pad('pred B', 7)} ${pad('real B', 7)}`,
  );
  const row = (w: Workload, first: boolean, x: Awaited<ReturnType<typeof autoRun>>, measured: number | null): HeldRow => {
    const predMeasured = measured === null ? null : predict(x.vm, x.from, x.to, x.p.auto.strategy as Strategy, x.policy, { dirtyMiBps: measured, calibration: lab.driver.calibration }).totalMs;
    const h: HeldRow = {
      name: w.spec.name, order: w.spec.order ?? 'sweep', first, capMiBps: w.capMiBps, strategy: x.p.auto.strategy, measuredMiBps: measured, residentMiB: x.vm.workload.residentMiB ?? null,
      pred: x.p.predicted, predMeasuredMs: predMeasured, outcome: x.r.outcome, reason: x.r.reason, totalMs: x.r.totalMs ?? NaN, downtimeMs: x.r.downtimeMs, bytes: x.r.bytes,
      etaErrs: etaErrors(x.reads, x.takenMs),
      copyEtaErrs: etaErrors(x.reads, x.takenMs, x.copyFromMs),
    };
    const ok = h.outcome === 'completed';
    const range = h.pred.range ? `${secs(h.pred.range.totalMs[0])}-${secs(h.pred.range.totalMs[1])}` : '-';
    console.log(
      `${h.name.padEnd(10)} ${h.order.padEnd(6)} ${(first ? 'first' : 'repeated').padEnd(8)} ${pad(w.spec.mem, 5)} ${pad(w.spec.wss, 5)} ${pad(w.spec.rate, 5)} ${pad(measured ?? '-', 5)} ${pad(h.residentMiB ?? '?', 5)} ${pad(w.capMiBps ?? 'none', 4)} ${h.strategy.padEnd(9)} ${pad(h.outcome, 9)}` +
        ` ${pad(secs(h.pred.totalMs), 8)} ${pad(secs(h.totalMs), 8)} ${pad(ok ? signed(relErr(h.pred.totalMs, h.totalMs)) : '-', 8)} ${pad(range, 15)}` +
        ` ${pad(ms(h.pred.downtimeMs), 8)} ${pad(ms(h.downtimeMs), 8)} ${pad((h.pred.bytes / 2 ** 20).toFixed(0), 7)} ${pad((h.bytes / 2 ** 20).toFixed(0), 7)}`,
    );
    if (!ok) console.log(`           ${h.reason}`);
    return h;
  };
  const o = (x: Awaited<ReturnType<typeof autoRun>>): RunOutcome => ({
    strategy: x.r.strategy ?? '?', finished: x.r.outcome === 'completed', totalMs: x.r.totalMs ?? NaN, downtimeMs: x.r.downtimeMs, bytes: x.r.bytes,
  });
  for (const w of HELD_OUT) {
    const [x1, x2] = await withGuest(lab, w, async () => {
      const measured = await lab.driver.measureDirtyRate(w.spec.name).catch(() => null);
      const first = await autoRun(lab, w);
      rows.push(row(w, true, first, measured));
      const again = await autoRun(lab, w);
      rows.push(row(w, false, again, measured));
      return [first, again];
    });
    if (!ANCHOR) continue;
    // Like auto, every policy gets a first and a repeated run.
    const plain: PlainOutcome[] = [];
    const plainAgain: (PlainOutcome | null)[] = [];
    for (const pp of PLAIN) {
      await withGuest(lab, w, async () => {
        const first = await plainRun(lab.dataDir, lab.driver, w.spec.name, pp, w.capMiBps);
        plain.push(first);
        plainAgain.push(first.finished ? await plainRun(lab.dataDir, lab.driver, w.spec.name, pp, w.capMiBps) : null);
      });
    }
    const x3 = await withGuest(lab, w, () => autoRun(lab, w, { preferSpeed: true }));
    anchor.push({ name: w.spec.name, capMiBps: w.capMiBps, rate: w.spec.rate, auto: { ...o(x1), strategy: x1.p.auto.strategy }, auto2: { ...o(x2), strategy: x2.p.auto.strategy }, speed: o(x3), plain, plainAgain });
  }
  return { rows, anchor };
}

function summarise(rows: HeldRow[]): void {
  console.log(`\nHELD-OUT accuracy (never used to fit; predicted with ${WANT === 'held-out' ? 'the committed QEMU_LAB_CALIBRATION' : 'the calibration fitted above'}):`);
  const groups: [string, HeldRow[]][] = [
    ['all held-out migrations', rows],
    ['first after boot', rows.filter((r) => r.first)],
    ['repeated', rows.filter((r) => !r.first)],
    ['sweeping guests', rows.filter((r) => r.order === 'sweep')],
    ['random-writing guests', rows.filter((r) => r.order === 'random')],
  ];
  for (const [label, g] of groups) {
    const done = g.filter((r) => r.outcome === 'completed');
    const t = done.map((r) => Math.abs(relErr(r.pred.totalMs, r.totalMs)));
    const d = done.filter((r) => r.downtimeMs !== null).map((r) => Math.abs(r.pred.downtimeMs - r.downtimeMs!));
    const b = done.map((r) => Math.abs(relErr(r.pred.bytes, r.bytes)));
    const agree = g.filter((r) => r.pred.converges === (r.outcome === 'completed')).length;
    const ranged = done.filter((r) => r.pred.range);
    const inside = ranged.filter((r) => r.totalMs >= r.pred.range!.totalMs[0] && r.totalMs <= r.pred.range!.totalMs[1]).length;
    console.log(
      `  ${label}: ${g.length} migrations; total time |error| median ${pct(median(t))}, p90 ${pct(p90(t))} (aim < 10 % / < 20 %: ${(median(t) / 0.1).toFixed(2)}x / ${(p90(t) / 0.2).toFixed(2)}x);` +
        ` downtime |error| median ${Math.round(median(d))} ms, p90 ${Math.round(p90(d))} ms; bytes |error| median ${pct(median(b))}, p90 ${pct(p90(b))}; verdict agreed ${agree}/${g.length}` +
        (ranged.length ? `; actual within the stated range ${inside}/${ranged.length}` : ''),
    );
  }
  const timed = rows.filter((r) => r.outcome === 'completed');
  console.log(
    `  the ETA shown while each ran (read every ${ETA_READ_MS} ms; |elapsed + ETA - time taken| / time taken, on the wall clock from the start, the destination's start included), ${timed.length} completed held-out migrations:`,
  );
  for (const line of etaTable(timed.map((r) => r.etaErrs), 0.25, '    ')) console.log(line);
  console.log('  the same reads against the copy\'s own time (from the first read past setup to the end; short copies read only a few times):');
  for (const line of etaTable(timed.map((r) => r.copyEtaErrs), 0.25, '    ')) console.log(line);
  const withMeasured = rows.filter((r) => r.outcome === 'completed' && r.predMeasuredMs !== null);
  if (withMeasured.length) {
    console.log(`  with the dirty rate measured by calc-dirty-rate instead of the guest's setting: total time |error| median ${pct(median(withMeasured.map((r) => Math.abs(relErr(r.predMeasuredMs!, r.totalMs)))))}`);
  }
}

async function main(): Promise<void> {
  if (!qemuPresent()) {
    console.log('qemu-calibration: skipped: qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)');
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-calibration-'));
  const t0 = Date.now();
  await labUp({ dataDir, hosts: 2, vms: [], bootTimeoutMs: 120_000 });
  console.log('(TCG guests, loopback link capped by max-bandwidth or, with no cap, the lab NIC\'s nominal 1000 MiB/s; downtime limit 300 ms; times in seconds, errors as (predicted - actual) / actual)\n');
  let cal: DriverCalibration = QEMU_LAB_CALIBRATION;
  let footprint: GuestFootprint = QEMU_GUEST_FOOTPRINT;
  try {
    if (WANT !== 'held-out') {
      const file = process.env.QEMU_FIT_RECORDS;
      let recs: FitRecord[] = [];
      if (file && fs.existsSync(file)) {
        recs = (JSON.parse(fs.readFileSync(file, 'utf8')) as FitRecord[]).filter((r) => FIT.some((w) => w.spec.name === r.name) && 'destStartMs' in r);
        // Records written before the driver reported it: the bench chose the write order, so it knows.
        for (const r of recs) r.vm.workload.writePattern ??= FIT.find((w) => w.spec.name === r.name)?.spec.order ?? 'sweep';
        console.log(`FIT set: ${recs.length} migrations read from ${file}`);
      }
      if (FIT.some((w) => !recs.some((r) => r.name === w.spec.name))) {
        const lab = openLab(dataDir, QEMU_LAB_CALIBRATION);
        try {
          recs = await runFitSet(lab, recs);
        } finally {
          closeLab(lab);
        }
        if (file) fs.writeFileSync(file, JSON.stringify(recs));
      }
      ({ cal, footprint } = fitCalibration(recs));
    } else {
      console.log('predicting with the committed QEMU_LAB_CALIBRATION (QEMU_BENCH_SET=held-out)');
    }
    if (WANT !== 'fit') {
      const lab = openLab(dataDir, cal, footprint);
      try {
        const { rows, anchor } = await runHeldOut(lab);
        summarise(rows);
        if (ANCHOR) printAnchor(anchor);
      } finally {
        closeLab(lab);
      }
    }
  } finally {
    const down = await labDown(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.log(`lab down: stopped ${down.stopped.length} QEMU processes; whole run ${secs(Date.now() - t0)}`);
  }
}

function printAnchor(rows: AnchorRow[]): void {
  console.log(
    `\nanchor, held-out workloads only: Ferry auto (through the engine) against plain QEMU policies (through the driver alone), same workloads, same cap,` +
      ` first after boot against first after boot and repeated against repeated; downtime limit 300 ms; plain runs cancelled after ${PLAIN_TIMEOUT_MS / 1000} s`,
  );
  console.log(
    'T = total time, DT = downtime, B = bytes sent; /best = over the fastest plain policy that finished (downtime within 300 ms);' +
      ' /kind = over the fastest plain policy of auto\'s kind (qemu-default or auto-converge where auto kept to pre-copy, postcopy@2 where it switched);' +
      ' speed = auto with "prefer speed", first after boot\n',
  );
  const fits = (o: PlainOutcome | RunOutcome | null): o is PlainOutcome => !!o && o.finished && (o.downtimeMs ?? Infinity) <= 300;
  const cell = (o: RunOutcome | PlainOutcome | null, note = '') =>
    !o ? 'not run' : o.finished ? `${secs(o.totalMs)} ${ms(o.downtimeMs)} ${(o.bytes / 2 ** 20).toFixed(0)} MiB` : note || 'unfinished';
  /** auto's time over the best plain run (of auto's kind when kind is set), NaN when either did not finish. */
  const over = (a: RunOutcome, plain: (PlainOutcome | null)[], kind: boolean) => {
    const pool = kind ? (a.strategy === 'precopy' ? plain.slice(0, 2) : plain.slice(2)) : plain;
    const best = pool.filter(fits).sort((x, y) => x.totalMs - y.totalMs)[0];
    return best && a.finished ? a.totalMs / best.totalMs : NaN;
  };
  const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const stat = (xs: number[]) => {
    const ok = xs.filter(Number.isFinite);
    return ok.length ? `median ${median(ok).toFixed(2)}, max ${Math.max(...ok).toFixed(2)} over ${ok.length}` : 'none';
  };
  const ratios = { first: [] as number[], firstKind: [] as number[], again: [] as number[], againKind: [] as number[], speed: [] as number[] };
  let within = 0;
  let speedWithin = 0;
  let defaultUnfinished = 0;
  let plainAny = 0;
  let autoWherePlain = 0;
  for (const row of rows) {
    for (const [when, a, plain] of [['first', row.auto, row.plain], ['again', row.auto2, row.plainAgain]] as const) {
      const best = over(a, plain, false);
      const kind = over(a, plain, true);
      ratios[when].push(best);
      ratios[when === 'first' ? 'firstKind' : 'againKind'].push(kind);
      console.log(
        `${row.name.padEnd(13)} ${when.padEnd(5)} ${pad(row.rate, 4)} ${pad(row.capMiBps ?? 'none', 4)} ${`${a.strategy}: ${cell(a)}`.padEnd(34)} ` +
          plain.map((p) => cell(p, p?.note).padEnd(26)).join(' ') +
          ` /best ${pad(f2(best), 5)} /kind ${pad(f2(kind), 5)}` +
          (when === 'first' ? ` | speed ${`${row.speed.strategy}: ${cell(row.speed)}`.padEnd(34)} /best ${f2(over(row.speed, plain, false))}` : ''),
      );
    }
    ratios.speed.push(over(row.speed, row.plain, false));
    if (row.auto.finished && (row.auto.downtimeMs ?? Infinity) <= 300) within++;
    if (row.speed.finished && (row.speed.downtimeMs ?? Infinity) <= 300) speedWithin++;
    if (!row.plain[0]!.finished) defaultUnfinished++;
    if (row.plain.some(fits)) {
      plainAny++;
      if (fits(row.auto)) autoWherePlain++;
    }
  }
  console.log(`\n(columns: workload, run, rate, cap, auto, ${PLAIN.map((p) => p.name).join(', ')}, ratios)`);
  console.log(
    `auto finished ${within}/${rows.length} within the 300 ms limit, and ${autoWherePlain}/${plainAny} of the workloads some plain policy finished within it (aim: all);` +
      ` QEMU defaults left ${defaultUnfinished}/${rows.length} unfinished after ${PLAIN_TIMEOUT_MS / 1000} s`,
  );
  console.log(`auto/best plain policy of its kind (aim <= 1.10): first after boot ${stat(ratios.firstKind)}; repeated ${stat(ratios.againKind)}`);
  console.log(`auto/best of all plain policies: first after boot ${stat(ratios.first)}; repeated ${stat(ratios.again)}`);
  console.log(`prefer speed: finished ${speedWithin}/${rows.length} within the limit; over the best of all plain policies ${stat(ratios.speed)}`);
}


function ms(x: number | null): string {
  return x === null ? '-' : `${Math.round(x)} ms`;
}

main().catch((e) => {
  console.error(`qemu-calibration failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
