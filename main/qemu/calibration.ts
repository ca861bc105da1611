// What real QEMU adds to the prediction model, measured on this lab (the calibration
// bench, bench/qemu-calibration.bench.ts: TCG guests of 256 MiB to 2 GiB migrated over
// loopback, max-bandwidth 32-200 MiB/s or none, QEMU 7.2).
import type { DriverCalibration } from '../engine/driver';

/**
 * QEMU, fitted by the calibration bench on its FIT set (18 workloads of 512 MiB to 1.5 GiB,
 * caps of 32-200 MiB/s and none, sweeping and random-writing guests, each migrated first
 * after boot and again: 36 migrations) and judged on a HELD-OUT set it never saw (see the
 * bench's output and the commit that set these).
 *  - Setup (QEMU's setup-time): 43 ms + 431 ms per GiB of guest memory + 363 ms per GiB the
 *    source QEMU never touched (unmapped in its page table: most of a freshly booted guest,
 *    none of one that arrived by migration), by least squares.
 *  - The stream gets 94 % of max-bandwidth, and at most 600 MiB/s with no cap (the TCG
 *    migration thread's own pace here, whatever the nominal NIC); the first pass also walks
 *    unmapped memory at 1100 MiB/s, which a capped stream hides in its idle time (grid over
 *    the three, least mean |log error| of total time: 0.095).
 *  - The pre-copy pause was 19-51 ms whatever remained (QEMU sends the last pass at full
 *    speed, ignoring max-bandwidth), so ~20 ms fixed; the post-copy switch paused 15-35 ms.
 *  - modelBand: an 80 % prediction interval of actual / predicted over the fit set, the
 *    range a prediction carries until a link has history of its own: total time 0.83-1.2x.
 * QEMU's dirty-pages-rate counts distinct pages per sync period, which a saturated working
 * set caps at about the link's rate: the engine never sees the race lost outright.
 */
export const QEMU_CALIBRATION: DriverCalibration = {
  setupMs: 43,
  setupMsPerGiB: 431,
  setupMsPerNonResidentGiB: 363,
  linkEfficiency: 0.94,
  streamMaxMiBps: 600,
  streamMaxBootedMiBps: null,
  nonResidentReadMiBps: 1100,
  finalCopyMaxMiBps: 2000,
  switchoverFixedMs: 20,
  postcopySwitchFixedMs: 30,
  raceLostVisible: false,
  modelBand: { total: [0.83, 1.2], downtime: [0.17, 1.48], n: 36, fittedOn: "TCG guests of Ferry's QEMU lab, first and repeated migrations" },
};
