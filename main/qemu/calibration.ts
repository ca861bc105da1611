// What real QEMU adds to the prediction model, measured on this lab (the calibration
// bench, bench/qemu-calibration.bench.ts: TCG guests of 256 MiB to 2 GiB migrated over
// loopback, max-bandwidth 32-200 MiB/s or none, QEMU 7.2).
import type { DriverCalibration } from '../engine/driver';

/**
 * QEMU, fitted by the calibration bench on its FIT set (50 workloads of 256 MiB to 2 GiB,
 * caps of 30-250 MiB/s and none, sweeping and random-writing guests, each migrated first
 * after boot and again: 100 migrations) and judged on a HELD-OUT set it never saw (8 more
 * workloads; see the bench's output and the commit that set these).
 *  - Setup, QEMU's own (its setup-time: dirty bitmaps, the first sync): 52 ms + 350 ms per
 *    GiB of guest memory + 125 ms per GiB the source QEMU never touched (unmapped in its page
 *    table: most of a freshly booted guest, none of one that arrived by migration), by least
 *    squares. A host other than the lab's (libvirt) adds this alone.
 *  - The lab adds its destination's start (QEMU_LAB_SETUP). The figures below and the band
 *    were fitted with it (QEMU_LAB_CALIBRATION), on the lab's times.
 *  - The stream gets 104 % of max-bandwidth (QEMU's limiter lets a little more through than
 *    asked), and at most 1050 MiB/s with no cap; the first pass walks unmapped memory at
 *    2000 MiB/s (grid, least mean |log error| of total time: 0.217; the grid is flat around
 *    it: 2400 in a run fitted with a fixed setup part).
 *  - A guest's first copy after boot and its next now agree (the lab preallocates the
 *    destination's memory and settles TCG's TLB before the workload; guest.ts, guest/init):
 *    the fit has no term for a source that booted the guest besides the setup's.
 *  - The pre-copy pause was 19-51 ms whatever remained (QEMU sends the last pass at full
 *    speed, ignoring max-bandwidth), so ~20 ms fixed; the post-copy switch paused 15-35 ms.
 *  - modelBand: an 80 % prediction interval of actual / predicted over the fit set, the
 *    range a prediction carries until a link has history of its own: total time 0.62-1.56x.
 *    In-sample: how often held-out migrations fall inside it is in the bench's output.
 * QEMU's dirty-pages-rate counts distinct pages per sync period, which a saturated working
 * set caps at about the link's rate: the engine never sees the race lost outright.
 */
export const QEMU_CALIBRATION: DriverCalibration = {
  setupMs: 52,
  setupMsPerGiB: 350,
  setupMsPerNonResidentGiB: 125,
  linkEfficiency: 1.04,
  streamMaxMiBps: 1050,
  nonResidentReadMiBps: 2000,
  finalCopyMaxMiBps: 2000,
  switchoverFixedMs: 20,
  postcopySwitchFixedMs: 30,
  raceLostVisible: false,
  modelBand: { total: [0.62, 1.56], downtime: [0.32, 1.34], n: 100, fittedOn: "TCG guests of Ferry's QEMU lab, first and repeated migrations" },
};

/**
 * The lab's setup: from Ferry's start to QEMU's first page, the destination QEMU's start (it
 * preallocates the guest's memory: guest.ts) and QEMU's setup-time. A migration's time counts
 * it, as the engineer waits for it (on libvirt, its Prepare too): 5253 ms per GiB of guest
 * memory + 3301 ms per GiB the source never touched, by least squares on the FIT set (the
 * fixed part came out negative, so none). It is most of a lab migration's time and the least
 * certain part: this machine's hypervisor takes back freed memory, and the same 512 MiB
 * destination started in 0.2-6 s by what had been freed just before. The model's band
 * (QEMU_CALIBRATION.modelBand) was fitted on the lab's times with it: 0.62-1.56x, where
 * fitted to QEMU's total-time alone, which leaves the destination's start out, it was
 * 0.87-1.09x, and judged a figure the console did not show.
 */
export const QEMU_LAB_SETUP: Pick<DriverCalibration, 'setupMs' | 'setupMsPerGiB' | 'setupMsPerNonResidentGiB'> = { setupMs: 0, setupMsPerGiB: 5253, setupMsPerNonResidentGiB: 3301 };

/** The QEMU lab's hosts: QEMU's calibration with the lab's setup. */
export const QEMU_LAB_CALIBRATION: DriverCalibration = { ...QEMU_CALIBRATION, ...QEMU_LAB_SETUP };

/** Guest memory that is not zero besides the working set: a fixed part and a part per GiB of guest memory, MiB. */
export interface GuestFootprint {
  fixedMiB: number;
  perGiBMiB: number;
}

/**
 * The lab guest's memory that is not zero besides its working set (kernel, initramfs, the
 * kernel's per-page structures), which every first pass sends: 64 MiB + 30 MiB per GiB,
 * fitted by the calibration bench on the bytes of its FIT set's 100 migrations (least mean
 * |log error| of bytes sent; there, bytes |error| median 1.5 %, p90 7.4 %; the fit before
 * this one, on other runs, gave 60 MiB + 28 MiB per GiB; the 40 MiB before that, 13.2 %
 * and 29.8 %).
 */
export const QEMU_GUEST_FOOTPRINT: GuestFootprint = { fixedMiB: 64, perGiBMiB: 30 };

/** The share of a lab guest's memory that is zero: what neither its working set nor its footprint touched. */
export function guestZeroFraction(memoryMiB: number, wssMiB: number, fp: GuestFootprint = QEMU_GUEST_FOOTPRINT): number {
  const touched = Math.min(memoryMiB, wssMiB + fp.fixedMiB + (fp.perGiBMiB * memoryMiB) / 1024);
  return Math.max(0, 1 - touched / memoryMiB);
}
