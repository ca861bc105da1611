// What real QEMU adds to the prediction model, measured on this lab (the calibration
// bench, bench/qemu-calibration.bench.ts: TCG guests of 512-1024 MiB migrated over loopback
// with max-bandwidth 50-200 MiB/s, QEMU 7.2).
import type { DriverCalibration } from '../engine/driver';

/**
 * QEMU, measured by the calibration bench (two runs, 9 workloads each). Total time fits
 * a + c / e, with c the model's copy time at the cap: a = 0.35 s and e = 0.9 give the
 * least median error (idle, 56 MiB at 200 MiB/s, c = 0.29 s, measured 0.73-0.80 s;
 * slowlink, c = 3.51 s at 100 MiB/s, measured 4.02-4.34 s; big, c = 1.18 s at
 * 200 MiB/s, measured 1.73-2.28 s): the stream gets ~90 % of max-bandwidth (less at
 * 200 MiB/s than at 100, as two TCG QEMUs share the cores). The pre-copy pause was
 * 19-51 ms whatever the remaining (QEMU sends the last pass at full speed, ignoring
 * max-bandwidth: >= 1 GiB/s over loopback, bounded here by the lab's nominal 1000 MiB/s
 * NIC), so ~20 ms fixed; the post-copy switch paused 15-35 ms (one 125 ms outlier).
 * QEMU's dirty-pages-rate counts distinct pages per sync period, which a saturated
 * working set caps at about the link's rate: the engine never saw the race lost outright,
 * and hybrid waited stallRounds flat rounds (4-6 rounds on over, hot and scorch).
 */
export const QEMU_CALIBRATION: DriverCalibration = {
  setupMs: 350,
  setupMsPerGiB: 0,
  setupMsPerNonResidentGiB: 0,
  linkEfficiency: 0.9,
  streamMaxMiBps: null,
  nonResidentReadMiBps: null,
  finalCopyMaxMiBps: 2000,
  switchoverFixedMs: 20,
  postcopySwitchFixedMs: 30,
  raceLostVisible: false,
};
