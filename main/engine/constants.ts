// Every constant the prediction model, the placement check and the engine's policy
// share, in one place, each with where it comes from. Change a figure here and both
// the prediction and the engine's decisions move together.
import type { Prediction } from '../../preload/model';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** x86 guest page: the unit dirty tracking and post-copy faults work in. */
export const PAGE_BYTES = 4096;

/**
 * Per-page header on the wire: QEMU sends each page with its offset and flags, and a zero
 * page as the header alone. (The simulator uses the same 16 bytes.)
 */
export const PAGE_HEADER_BYTES = 16;

/** Bytes on the wire for `pageBytes` of non-zero pages. */
export function wireBytes(pageBytes: number): number {
  return pageBytes * ((PAGE_BYTES + PAGE_HEADER_BYTES) / PAGE_BYTES);
}

/**
 * Device state (CPU registers, virtio queues, timers) sent at switchover. QEMU's device
 * section is typically a few hundred KiB for a small virtio guest.
 */
export const DEVICE_STATE_BYTES = 256 * 1024;

/**
 * Fixed cost of a pre-copy switchover beyond the bytes: the final dirty-bitmap sync,
 * stopping the vCPUs, and starting them on the destination. QEMU measured here paused
 * a 512 MiB guest for 55 ms with little left to send; libvirt for 62-94 ms.
 */
export const SWITCHOVER_FIXED_MS = 10;

/**
 * Fixed cost of the post-copy switch: no final RAM pass, only the discard bitmap and
 * device state. Measured here: 2 ms (QEMU) and 5 ms (libvirt, the production path, and
 * what the simulator uses) of downtime.
 */
export const POSTCOPY_SWITCH_FIXED_MS = 5;

/** Round trip for one post-copy page request (destination fault -> source -> back). */
export const FAULT_RTT_MS = 0.2;

/** A post-copy switch risks a fault storm when faults arrive faster than this share of what the link can serve. */
export const STORM_RISK_SHARE = 0.5;

/**
 * Pre-copy "shrinks" only when remaining dirty memory drops by at least this share of
 * the smallest remaining seen so far. A smaller gain is noise, or a race so close (dirty
 * rate within ~5% of the link) that pre-copy needs dozens of rounds: worth throttling or
 * switching to post-copy for.
 */
export const STALL_MIN_SHRINK = 0.05;

/** Upper bound on modelled rounds, so a prediction always ends (the timeout usually ends it first). */
export const MAX_MODEL_ROUNDS = 2000;

/** QEMU auto-converge: cpu-throttle-initial 20 %, cpu-throttle-increment 10 %, at most 99 %. */
export const THROTTLE_INITIAL_PCT = 20;
export const THROTTLE_INCREMENT_PCT = 10;
export const THROTTLE_MAX_PCT = 99;

/**
 * With timeoutAction 'throttle' the engine starts throttling at the timeout and gives up
 * (aborts, the VM stays on the source) at this multiple of the timeout.
 */
export const THROTTLE_GRACE_FACTOR = 2;

/** Share of a host's memory never handed to guests (hypervisor, page cache, QEMU overhead). */
export const HOST_MEMORY_RESERVE = 0.05;

/** vCPUs a host may carry per physical core (oVirt and OpenStack default to a few x). */
export const VCPU_OVERCOMMIT = 4;

/** A destination is green only if pre-copy converges and finishes within this. */
export const GREEN_MAX_TOTAL_MS = 60_000;

/**
 * Auto prefers pre-copy when it converges and takes at most this multiple of post-copy's
 * time (or less than COMPARABLE_SLACK_MS more): a slower but safe migration beats one
 * that loses the VM if the link dies.
 */
export const COMPARABLE_FACTOR = 2;
export const COMPARABLE_SLACK_MS = 30_000;

/**
 * Concurrency defaults, as oVirt and KubeVirt ship them: 2 outbound and 2 inbound
 * migrations per host, so a link is shared by at most two streams. The global cap of 16
 * (KubeVirt caps a cluster at 5, oVirt leaves it to the per-host limits) bounds the
 * engine's own work; raise it for large simulated runs.
 */
export const DEFAULT_LIMITS = { perHostOut: 2, perHostIn: 2, total: 16 } as const;

/**
 * Queue priority of an evacuation's moves: ahead of ordinary migrations (priority 0), as
 * KubeVirt's migration priority queue puts drains first, so user migrations cannot starve
 * a maintenance window. The per-host limits still hold, so other hosts' migrations run.
 */
export const EVACUATION_PRIORITY = 1;

/** Wall milliseconds between progress batches. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250;

/** Post-copy samples are recorded as rounds at most this often (driver clock). */
export const POSTCOPY_SAMPLE_EVERY_MS = 1000;

/** ETA smoothing: weight of the newest raw estimate. */
export const ETA_ALPHA = 0.3;

/**
 * Until the copy has sent this share of the bytes predicted, the ETA's rate is at least the
 * prediction's own average rate: QEMU's first rate readings come from a copy still ramping up
 * (15-32 MiB/s under a 50-160 MiB/s cap), which made the first ETAs 3-4 times too long.
 * Fitted on the QEMU lab's FIT-set migrations (20): 0.05 left 2 of 20 migrations with a read
 * over 25 % late in the copy, 0.2 none; 0.35 to 1 changed little.
 */
export const ETA_WARMUP_SHARE = 0.2;

/** Ended migrations kept in memory for wait() and cancel() answers. */
export const ENDED_KEPT = 5000;

/** The model's error on the migrations a calibration was fitted on (DriverCalibration.modelBand). */
export interface ModelBand {
  /** Actual / predicted total time: 80 % of the next migrations fall within it. */
  total: [number, number];
  /** Actual / predicted pause. */
  downtime: [number, number];
  /** Migrations it stands on. */
  n: number;
  /** What they were, in words ("TCG guests of Ferry's QEMU lab"). */
  fittedOn: string;
}

/**
 * Per-driver calibration: what a real hypervisor adds to the round model. Each driver
 * brings its own (HostDriver.calibration): the simulator has none of these overheads
 * (MODEL_CALIBRATION); QEMU's comes from the calibration bench (main/qemu/calibration.ts).
 */
export interface DriverCalibration {
  /**
   * Fixed time before the first page moves and after the last one: QEMU's setup-time,
   * the destination's start, the first dirty-bitmap sync over all of guest memory, and
   * the zero-page scan of memory the guest never touched. Added to the total time.
   */
  setupMs: number;
  /** Setup time per GiB of guest memory (dirty bitmaps, the first sync over all of it). */
  setupMsPerGiB: number;
  /** Setup time per GiB of guest memory the source never touched: unmapped in its page table (Workload.residentMiB). */
  setupMsPerNonResidentGiB: number;
  /** Achieved stream rate over the configured cap (max-bandwidth's rate limiter overshoots less than it undershoots). */
  linkEfficiency: number;
  /**
   * The fastest the stream goes however high the cap, MiB/s, or null for no such bound:
   * what the migration thread manages on its CPU (a TCG QEMU here), whatever the NIC.
   */
  streamMaxMiBps: number | null;
  /**
   * The rate at which the first pass walks guest memory the source never touched (unmapped), MiB/s,
   * or null when it costs nothing. Each such page is faulted in to be read (and found zero):
   * work on the migration thread, which a capped stream hides in its idle time, so the
   * first pass takes the longer of its bytes at the link's rate and its bytes at
   * streamMaxMiBps plus this walk.
   */
  nonResidentReadMiBps: number | null;
  /**
   * Rate of the final stop-and-copy, MiB/s, or null to use the link as capped. QEMU sends
   * the last pass with the guest paused at full speed, ignoring max-bandwidth, so it runs
   * at the NIC's rate (the slower host NIC), never above this figure.
   */
  finalCopyMaxMiBps: number | null;
  /** Fixed pause of a pre-copy switchover (final bitmap sync, vCPU stop, device state load, resume). */
  switchoverFixedMs: number;
  /** Fixed pause of the post-copy switch (discard bitmap, device state, resume on the destination). */
  postcopySwitchFixedMs: number;
  /**
   * Whether the engine sees a lost race (dirty rate above the link) from the hypervisor's
   * figures, and so stalls after one flat round instead of `stallRounds`.
   */
  raceLostVisible: boolean;
  /**
   * How far the model's figures fell from real ones on the migrations this calibration was
   * fitted on: an 80 % prediction interval of actual / predicted for total time and pause
   * (learn.ts's predictionInterval over n migrations). Until a link has history of its own, a
   * prediction's range is its figures times these. Absent: the model's figures carry no range
   * of their own (the simulator, whose process the model describes).
   */
  modelBand?: ModelBand;
  /**
   * What history taught about predictions over a link (the engine installs it): the model's
   * prediction in, the refined one out. Absent: the model's figures stand alone.
   */
  refine?: (fromId: string, toId: string, p: Prediction) => Prediction;
  /** Which history `refine` would use for a link: links with the same key get the same refinement. */
  refineKey?: (fromId: string, toId: string) => string;
}

/** The round model alone, with no hypervisor's overheads: the default, and the simulator's. */
export const MODEL_CALIBRATION: DriverCalibration = {
  setupMs: 0,
  setupMsPerGiB: 0,
  setupMsPerNonResidentGiB: 0,
  linkEfficiency: 1,
  streamMaxMiBps: null,
  nonResidentReadMiBps: null,
  finalCopyMaxMiBps: null,
  switchoverFixedMs: SWITCHOVER_FIXED_MS,
  postcopySwitchFixedMs: POSTCOPY_SWITCH_FIXED_MS,
  raceLostVisible: true,
};

/**
 * Dirty rate over the link's rate at or above which auto arms post-copy even when pre-copy
 * is predicted to converge. Measured: a 224 MiB working set dirtied at 90 MiB/s under a
 * 100 MiB/s cap (held-out, QEMU) was predicted to converge in 12.7 s and took 22.5 s
 * (post-copy after two passes: 5.1 s); in a simulated 264-VM rack evacuation the moves
 * furthest from their predicted time were pre-copies predicted within 10 % of the limit.
 */
export const NEAR_CLIFF_RATIO = 0.8;
/** Dirty rate over link rate within which pre-copy is predicted across the dirty rate's band. */
export const CLIFF_BAND: [number, number] = [0.6, 1.4];
/** Points across that band. */
export const CLIFF_POINTS = 5;
/** Half-width of the band when the driver gave one figure (not measured here: a stated default, said as such wherever it is used). */
export const DIRTY_BAND = 0.15;
/**
 * ...and only when pre-copy needs this many rounds: a small working set rewritten faster
 * than the link still converges in a pass or two (what stays dirty is the set, not the rate).
 */
export const NEAR_CLIFF_MIN_ROUNDS = 5;
/**
 * ...or when its predicted last pause takes this share of the downtime limit: a little less
 * bandwidth (another migration starting on the link) and it no longer fits. In the simulated
 * rack evacuation, pre-copies predicted at 77-97 % of the limit took 2-7x their prediction.
 */
export const NEAR_CLIFF_PAUSE_SHARE = 0.75;

/**
 * A running hybrid goes on with pre-copy while going on would send at most this many times
 * what post-copy would pull if it switched now (policy.ts hybridShouldSwitch): the price of
 * leaving less to post-copy, whose VM dies with the link.
 */
export const HYBRID_MAX_SLOWDOWN = 2;

/**
 * Where pre-copy cannot converge, hybrid's extra rounds leave post-copy about as much as one
 * pass does (the working set is rewritten each pass), so auto takes them only when they cost
 * at most this much more than post-copy after one pass; else post-copy. The same bound as
 * the benchmark's aim for auto against QEMU's own post-copy after two syncs.
 */
export const HYBRID_OVER_POSTCOPY_MAX = 1.1;

/**
 * How long one reading of a VM's workload (its dirty rate above all) stands for the
 * predictions made from it: long enough for a drag, the dialog after the drop and the start
 * to use the same one; short next to how fast workloads change, and the same age at which
 * the libvirt driver measures a VM's dirty rate again before a prediction.
 */
export const MEASUREMENT_HOLD_MS = 30_000;
