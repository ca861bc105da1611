// HiGHS in a worker thread: an exact solve may take seconds, and the console's main
// process must keep serving progress and IPC meanwhile. One worker per call, ended after.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface ExactResult {
  Status: string;
  ObjectiveValue: number;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.path)().then(
  (h) => parentPort.postMessage({ results: workerData.programs.map((lp) => {
    const r = h.solve(lp, workerData.options);
    return { Status: r.Status, ObjectiveValue: r.ObjectiveValue };
  }) }),
  (e) => parentPort.postMessage({ error: String(e && e.message || e) }),
);
`;

/** Solves 0-1 programs (CPLEX LP text), each within `timeLimitS`; rejects with the reason the solver could not run. */
export function solvePrograms(programs: string[], timeLimitS: number): Promise<ExactResult[]> {
  if (!programs.length) return Promise.resolve([]);
  let path: string;
  try {
    path = createRequire(__filename).resolve('highs');
  } catch {
    return Promise.reject(new Error('the HiGHS solver (npm package highs) is not installed'));
  }
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { path, programs, options: { time_limit: timeLimitS, output_flag: false, mip_rel_gap: 0 } } });
    w.once('message', (m: { results?: ExactResult[]; error?: string }) => {
      void w.terminate();
      if (m.results) resolve(m.results);
      else reject(new Error(`the HiGHS solver failed: ${m.error}`));
    });
    w.once('error', (e) => reject(new Error(`the HiGHS solver failed: ${e.message}`)));
  });
}
