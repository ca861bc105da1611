// The map benchmark's figures: frame statistics, the CPU and memory of the browser and of
// the machine, what is in the DOM, and whether dist/ is older than the sources.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import type { FrameLog } from './instrument';

export const BUDGET_MS = 1000 / 60; // one frame at 60 Hz
export const LATE_MS = 1.5 * BUDGET_MS; // longer than one vsync: at least one frame missed
export const DROPPED_MS = 33.4; // 2 x 16.7 ms: at least two vsyncs for one frame
export const MiB = 2 ** 20;

export interface FrameStats {
  n: number;
  p50: number;
  p95: number;
  max: number;
  late: number;
  dropped: number;
}

export function frameStats(deltas: number[]): FrameStats {
  const s = [...deltas].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? NaN,
    late: s.filter((d) => d > LATE_MS).length / (s.length || 1),
    dropped: s.filter((d) => d > DROPPED_MS).length / (s.length || 1),
  };
}

export const ms = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(x < 100 ? 1 : 0)} ms`);
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;
export const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The long animation frames of a phase, and the scripts that took most of their time. */
export function longLine(log: FrameLog): string {
  if (!log.long.length) return 'no frame with over 50 ms of work';
  const by = new Map<string, number>();
  for (const f of log.long) for (const sc of f.scripts) by.set(sc.what, (by.get(sc.what) ?? 0) + sc.ms);
  const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([what, t]) => `${what} ${int(t)} ms`);
  const worst = Math.max(...log.long.map((f) => f.duration));
  return `${log.long.length} frame(s) with over 50 ms of work (worst ${ms(worst)}${top.length ? `; mostly ${top.join(', ')}` : ''})`;
}

export function frameLine(label: string, f: FrameStats): string {
  return (
    `${label}: ${f.n} frames, p50 ${ms(f.p50)}, p95 ${ms(f.p95)} (${(f.p95 / BUDGET_MS).toFixed(2)}x the 16.7 ms budget), ` +
    `max ${ms(f.max)}, dropped ${(f.dropped * 100).toFixed(1)}% (>${DROPPED_MS} ms; ${(f.late * 100).toFixed(1)}% missed a vsync, >${LATE_MS.toFixed(0)} ms)`
  );
}

/** Main-thread time by kind between two CDP Performance.getMetrics snapshots. */
export type Metrics = Record<string, number>;
let servePid: number | undefined;
/** The `ferry serve` process whose CPU time the figures report. */
export function watchServe(pid: number | undefined): void {
  servePid = pid;
}
export async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  // The server shares the machine's CPUs with Chromium: its time is part of the picture,
  // and so is what other processes on the machine take (they inflate frame times).
  return {
    ...Object.fromEntries(list.map((m) => [m.name, m.value])),
    ServeCPU: cpuMs(servePid) / 1000,
    MachineBusy: machineBusyMs() / 1000,
    OursCPU: oursCpuMs() / 1000,
  };
}

/** CPU time the whole machine has spent busy (all CPUs), ms, from /proc/stat. */
export function machineBusyMs(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
    return (user + nice + system + irq + softirq + (steal ?? 0)) * 10; // USER_HZ 100
  } catch {
    return NaN;
  }
}

/** CPU time of this benchmark, Chromium and the server: this process and its descendants, ms. */
export function oursCpuMs(): number {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1000 + descendants(process.pid).reduce((sum, pid) => sum + (cpuMs(pid) || 0), 0);
}

export function descendants(root: number, exclude?: number): number[] {
  let table: string;
  try {
    table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const line of table.trim().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      if (c === exclude) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}
let maxOthers = 0;
/** The most CPU other processes took in any phase, % of the machine. */
export const othersPeakPct = () => maxOthers;
export function busyLine(a: Metrics, b: Metrics, wallMs: number): string {
  const d = (k: string) => ((b[k] ?? 0) - (a[k] ?? 0)) * 1000;
  const task = d('TaskDuration');
  const others = Math.max(0, ((d('MachineBusy') - d('OursCPU')) / (wallMs * os.cpus().length)) * 100);
  if (Number.isFinite(others)) maxOthers = Math.max(maxOthers, others);
  return (
    `main thread busy ${((task / wallMs) * 100).toFixed(0)}% of ${int(wallMs)} ms ` +
    `(script ${int(d('ScriptDuration'))} ms, style ${int(d('RecalcStyleDuration'))} ms, layout ${int(d('LayoutDuration'))} ms, ` +
    `${int((b.LayoutCount ?? 0) - (a.LayoutCount ?? 0))} layouts); ferry serve used ${int(d('ServeCPU'))} ms CPU; ` +
    `other processes took ${others.toFixed(0)}% of the machine`
  );
}

/** used JS heap (performance.memory, precise with --enable-precise-memory-info), before and after a full GC */
export async function heap(page: Page, cdp: CDPSession): Promise<{ used: number; afterGc: number; total: number }> {
  const read = () => page.evaluate(() => {
    const m = (performance as Performance & { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
    return { used: m?.usedJSHeapSize ?? NaN, total: m?.totalJSHeapSize ?? NaN };
  });
  const before = await read();
  await cdp.send('HeapProfiler.collectGarbage');
  const after = await read();
  return { used: before.used, afterGc: after.used, total: after.total };
}

/** Resident memory of Chromium's processes: our descendants, minus the server's tree. */
export function chromiumMemory(exclude: number): { rendererRss: number; rendererPss: number; totalRss: number; totalPss: number; processes: number } | null {
  const mine = descendants(process.pid, exclude);
  const kib = (file: string, key: string) => {
    try {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(file, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  let rendererRss = 0, rendererPss = 0, totalRss = 0, totalPss = 0, processes = 0;
  for (const pid of mine) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!/chrom/i.test(cmd)) continue;
    const rss = kib(`/proc/${pid}/status`, 'VmRSS');
    const pss = kib(`/proc/${pid}/smaps_rollup`, 'Pss');
    processes++;
    totalRss += rss;
    totalPss += pss;
    if (cmd.includes('--type=renderer') && rss > rendererRss) {
      rendererRss = rss;
      rendererPss = pss;
    }
  }
  return processes ? { rendererRss, rendererPss, totalRss, totalPss, processes } : null;
}

export function memoryLine(label: string, h: { used: number; afterGc: number; total: number }, proc: ReturnType<typeof chromiumMemory>): string {
  const p = proc
    ? `; renderer process RSS ${mib(proc.rendererRss)} (PSS ${mib(proc.rendererPss)}), all ${proc.processes} Chromium processes RSS ${mib(proc.totalRss)} (PSS ${mib(proc.totalPss)})`
    : '; process RSS not available';
  return `${label}: JS heap ${mib(h.used)} used, ${mib(h.afterGc)} after a full GC (heap ${mib(h.total)})${p}`;
}

export async function domCounts(page: Page) {
  return page.evaluate(() => {
    const scroller = document.querySelector('[data-testid="cluster-map"]');
    return {
      nodes: document.getElementsByTagName('*').length,
      cards: document.getElementsByClassName('host-card').length,
      chips: document.getElementsByClassName('chip').length,
      rows: document.getElementsByClassName('map-item').length,
      scrollHeight: scroller?.scrollHeight ?? 0,
      clientHeight: scroller?.clientHeight ?? 0,
    };
  });
}

export const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** CPU time a process has used, ms (user + system, from /proc). */
export function cpuMs(pid: number | undefined): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** Sources changed since dist/ was built: the figures would be for older code. */
export function staleBuild(): string[] {
  const root = path.resolve(__dirname, '..', '..'); // dist/bench -> the repository
  const built = (f: string) => {
    try {
      return fs.statSync(path.join(root, f)).mtimeMs;
    } catch {
      return 0;
    }
  };
  const newer = (dir: string, than: number, out: string[]) => {
    if (!fs.existsSync(path.join(root, dir))) return out;
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) newer(rel, than, out);
      else if (/\.(ts|tsx|css)$/.test(e.name) && fs.statSync(path.join(root, rel)).mtimeMs > than) out.push(rel);
    }
    return out;
  };
  const cli = built('dist/cli/ferry.js');
  const ui = built('dist/renderer/index.html');
  return [...newer('main', cli, []), ...newer('preload', Math.min(cli, ui), []), ...newer('renderer/src', ui, [])];
}
