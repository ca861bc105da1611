// What real QEMU adds to the prediction model, measured on this lab (the calibration
// bench, bench/qemu-calibration.bench.ts: TCG guests of 256 MiB to 2 GiB migrated over
// loopback, max-bandwidth 32-200 MiB/s or none, QEMU 7.2).
import type { DriverCalibration } from '../engine/driver';

/**
 * QEMU, fitted by the calibration bench on its FIT set (42 workloads of 256 MiB to 2 GiB,
 * caps of 32-250 MiB/s and none, sweeping and random-writing guests, each migrated first
 * after boot and again: 84 migrations) and judged on a HELD-OUT set it never saw (8 more
 * workloads; see the bench's output and the commit that set these).
 *  - Setup (QEMU's setup-time): 18 ms + 380 ms per GiB of guest memory + 144 ms per GiB the
 *    source QEMU never touched (unmapped in its page table: most of a freshly booted guest,
 *    none of one that arrived by migration), by least squares.
 *  - The stream gets 94 % of max-bandwidth. With no cap nothing below the lab NIC's nominal
 *    1000 MiB/s held it back (the grid's top, 2000 MiB/s, fits best), and unmapped memory is
 *    walked faster than the grid's top of 3000 MiB/s (coordinate descent, least mean |log
 *    error| of total time: 0.067).
 *  - A guest's first migration after boot and its next now agree (the lab preallocates the
 *    destination's memory and settles TCG's TLB before the workload; guest.ts, guest/init):
 *    the grid found no term for a source that booted the guest.
 *  - The pre-copy pause was 19-51 ms whatever remained (QEMU sends the last pass at full
 *    speed, ignoring max-bandwidth), so ~20 ms fixed; the post-copy switch paused 15-35 ms.
 *  - modelBand: an 80 % prediction interval of actual / predicted over the fit set, the
 *    range a prediction carries until a link has history of its own: total time 0.88-1.12x.
 *    In-sample: how often held-out migrations fall inside it is in the bench's output.
 * QEMU's dirty-pages-rate counts distinct pages per sync period, which a saturated working
 * set caps at about the link's rate: the engine never sees the race lost outright.
 */
export const QEMU_CALIBRATION: DriverCalibration = {
  setupMs: 18,
  setupMsPerGiB: 380,
  setupMsPerNonResidentGiB: 144,
  linkEfficiency: 0.94,
  streamMaxMiBps: 2000,
  nonResidentReadMiBps: 3000,
  finalCopyMaxMiBps: 2000,
  switchoverFixedMs: 20,
  postcopySwitchFixedMs: 30,
  raceLostVisible: false,
  modelBand: { total: [0.88, 1.12], downtime: [0.39, 1.27], n: 84, fittedOn: "TCG guests of Ferry's QEMU lab, first and repeated migrations" },
};
