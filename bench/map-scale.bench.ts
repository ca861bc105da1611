// The cluster map at vCenter's configuration maximum (2,500 hosts, 40,000 VMs) in
// headless Chromium against a real `ferry serve`: time to first render, frame times while
// scrolling and while dragging a VM (p50, p95, max, dropped frames; p95 against the 16.7 ms
// frame budget), memory, and how much of the map is in the DOM (it is virtualised: only
// what is on screen is rendered); last, frames while migrations end and the inventory
// changes under the map. Each phase also says what else took the machine's CPUs: on a
// busy machine frame times are inflated.
//   npm run bench map-scale        (MAP_BENCH_PHASE_MS=5000 sets each measured phase)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { generateDatacenter } from '../main/sim/seed';
import { launchBrowser, runCli, screenshotPath, startServe, type Served } from '../test/e2e/harness';

const HOSTS_PER_CLUSTER = 100;
const CLUSTERS = 25;
const VMS = 40_000;
const VIEWPORT = { width: 1440, height: 900 };
const PHASE_MS = Number(process.env.MAP_BENCH_PHASE_MS ?? 5000);
const LIVE_MIGRATIONS = 24; // small VMs migrated while the map scrolls (phase 6)
const BUDGET_MS = 1000 / 60; // one frame at 60 Hz
const LATE_MS = 1.5 * BUDGET_MS; // longer than one vsync: at least one frame missed
const DROPPED_MS = 33.4; // 2 x 16.7 ms: at least two vsyncs for one frame
const DEADLINE_MS = 170_000; // the whole benchmark, setup and cleanup included
const MiB = 2 ** 20;

// ---------------------------------------------------------------- in-page instrumentation

interface FrameLog {
  /** rAF-to-rAF intervals, ms */
  deltas: number[];
  /** most host cards / VM chips / DOM nodes seen at once (sampled every few frames) */
  maxCards: number;
  maxChips: number;
  maxNodes: number;
  /** performance.now() of the first frame with a destination verdict on a card, if any */
  firstVerdictAt: number | null;
  /** hosts that were under the pointer (the .over card) during a drag */
  hovered: string[];
  /** long animation frames (> 50 ms of work, Chromium's LoAF API): duration and what ran */
  long: Array<{ duration: number; scripts: Array<{ what: string; ms: number }> }>;
  startedAt: number;
}

/** One request over the console's WebSocket, timed in the page's clock. */
interface Call {
  channel: string;
  id: number;
  sentAt: number;
  receivedAt: number | null;
  /** length of the response message, characters (the JSON is ASCII: bytes) */
  chars: number;
}

interface BenchApi {
  calls: Call[];
  firstHostAt: number | null;
  firstHostPaintedAt: number | null;
  start(): void;
  stop(): FrameLog;
}

type BenchWindow = Window & { __bench: BenchApi };

/** Runs in the page before any of its scripts: first-render detection and a frame recorder. */
function instrument(): void {
  const w = window as unknown as BenchWindow;
  let log: FrameLog | null = null;
  let last: number | null = null;
  let frame = 0;
  const sample = () => {
    if (!log) return;
    log.maxCards = Math.max(log.maxCards, document.getElementsByClassName('host-card').length);
    log.maxChips = Math.max(log.maxChips, document.getElementsByClassName('chip').length);
    log.maxNodes = Math.max(log.maxNodes, document.getElementsByTagName('*').length);
  };
  const tick = (t: number) => {
    if (!log) return;
    if (last !== null) log.deltas.push(t - last);
    last = t;
    if (log.firstVerdictAt === null && document.querySelector('.host-card[data-verdict]')) log.firstVerdictAt = performance.now();
    const over = document.querySelector('.host-card.over')?.getAttribute('data-testid')?.replace(/^host-/, '');
    if (over && !log.hovered.includes(over)) log.hovered.push(over);
    if (++frame % 5 === 0) sample();
    requestAnimationFrame(tick);
  };
  const api: BenchApi = {
    calls: [],
    firstHostAt: null,
    firstHostPaintedAt: null,
    start() {
      log = { deltas: [], maxCards: 0, maxChips: 0, maxNodes: 0, firstVerdictAt: null, hovered: [], long: [], startedAt: performance.now() };
      last = null;
      frame = 0;
      requestAnimationFrame(tick);
    },
    stop() {
      sample();
      const l = log!;
      log = null;
      return l;
    },
  };
  w.__bench = api;
  // Frames with more than 50 ms of work, with the scripts that ran in them (Chromium 123+).
  try {
    new PerformanceObserver((list) => {
      if (!log) return;
      for (const e of list.getEntries() as Array<PerformanceEntry & { scripts?: Array<{ invoker?: string; sourceFunctionName?: string; duration: number }> }>) {
        log.long.push({
          duration: e.duration,
          scripts: (e.scripts ?? []).map((sc) => ({ what: `${sc.invoker ?? '?'}${sc.sourceFunctionName ? ` (${sc.sourceFunctionName})` : ''}`, ms: sc.duration })),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    /* not supported: no attribution */
  }
  // Time requests and responses where the page sees them: a listener registered before the
  // transport's onmessage, so it runs before the response is parsed and rendered.
  const Native = window.WebSocket;
  const byId = new Map<number, Call>();
  class Traced extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (ev: MessageEvent) => {
        const t = performance.now();
        if (typeof ev.data !== 'string') return;
        const m = /^\{"type":"result","id":(\d+)/.exec(ev.data.slice(0, 60));
        const call = m ? byId.get(Number(m[1])) : undefined;
        if (!call) return;
        call.receivedAt = t;
        call.chars = ev.data.length;
        byId.delete(call.id);
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string' && data.length < 10_000) {
        try {
          const msg = JSON.parse(data) as { type?: string; id?: number; channel?: string };
          if (msg.type === 'invoke' && typeof msg.id === 'number') {
            const call: Call = { channel: String(msg.channel), id: msg.id, sentAt: performance.now(), receivedAt: null, chars: 0 };
            api.calls.push(call);
            byId.set(call.id, call);
          }
        } catch {
          /* not ours to judge */
        }
      }
      super.send(data);
    }
  }
  window.WebSocket = Traced;
  // The first host card in the DOM, then the frame that paints it (rAF runs before the
  // paint; a task queued from it runs after).
  const observer = new MutationObserver(() => {
    if (api.firstHostAt !== null || !document.querySelector('[data-testid^="host-"]')) return;
    api.firstHostAt = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => (api.firstHostPaintedAt = performance.now()), 0));
  });
  observer.observe(document, { childList: true, subtree: true });
}

// ---------------------------------------------------------------- figures

interface FrameStats {
  n: number;
  p50: number;
  p95: number;
  max: number;
  late: number;
  dropped: number;
}

function frameStats(deltas: number[]): FrameStats {
  const s = [...deltas].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? NaN,
    late: s.filter((d) => d > LATE_MS).length / (s.length || 1),
    dropped: s.filter((d) => d > DROPPED_MS).length / (s.length || 1),
  };
}

const ms = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(x < 100 ? 1 : 0)} ms`);
const mib = (bytes: number) => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The long animation frames of a phase, and the scripts that took most of their time. */
function longLine(log: FrameLog): string {
  if (!log.long.length) return 'no frame with over 50 ms of work';
  const by = new Map<string, number>();
  for (const f of log.long) for (const sc of f.scripts) by.set(sc.what, (by.get(sc.what) ?? 0) + sc.ms);
  const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([what, t]) => `${what} ${int(t)} ms`);
  const worst = Math.max(...log.long.map((f) => f.duration));
  return `${log.long.length} frame(s) with over 50 ms of work (worst ${ms(worst)}${top.length ? `; mostly ${top.join(', ')}` : ''})`;
}

function frameLine(label: string, f: FrameStats): string {
  return (
    `${label}: ${f.n} frames, p50 ${ms(f.p50)}, p95 ${ms(f.p95)} (${(f.p95 / BUDGET_MS).toFixed(2)}x the 16.7 ms budget), ` +
    `max ${ms(f.max)}, dropped ${(f.dropped * 100).toFixed(1)}% (>${DROPPED_MS} ms; ${(f.late * 100).toFixed(1)}% missed a vsync, >${LATE_MS.toFixed(0)} ms)`
  );
}

/** Main-thread time by kind between two CDP Performance.getMetrics snapshots. */
type Metrics = Record<string, number>;
let servePid: number | undefined;
async function metrics(cdp: CDPSession): Promise<Metrics> {
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
function machineBusyMs(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
    return (user + nice + system + irq + softirq + (steal ?? 0)) * 10; // USER_HZ 100
  } catch {
    return NaN;
  }
}

/** CPU time of this benchmark, Chromium and the server: this process and its descendants, ms. */
function oursCpuMs(): number {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1000 + descendants(process.pid).reduce((sum, pid) => sum + (cpuMs(pid) || 0), 0);
}

function descendants(root: number, exclude?: number): number[] {
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
function busyLine(a: Metrics, b: Metrics, wallMs: number): string {
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
async function heap(page: Page, cdp: CDPSession): Promise<{ used: number; afterGc: number; total: number }> {
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
function chromiumMemory(exclude: number): { rendererRss: number; rendererPss: number; totalRss: number; totalPss: number; processes: number } | null {
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

function memoryLine(label: string, h: { used: number; afterGc: number; total: number }, proc: ReturnType<typeof chromiumMemory>): string {
  const p = proc
    ? `; renderer process RSS ${mib(proc.rendererRss)} (PSS ${mib(proc.rendererPss)}), all ${proc.processes} Chromium processes RSS ${mib(proc.totalRss)} (PSS ${mib(proc.totalPss)})`
    : '; process RSS not available';
  return `${label}: JS heap ${mib(h.used)} used, ${mib(h.afterGc)} after a full GC (heap ${mib(h.total)})${p}`;
}

async function domCounts(page: Page) {
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

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** CPU time a process has used, ms (user + system, from /proc). */
function cpuMs(pid: number | undefined): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** Sources changed since dist/ was built: the figures would be for older code. */
function staleBuild(): string[] {
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

// ---------------------------------------------------------------- the benchmark

const cleanups: Array<() => Promise<void> | void> = [];
async function cleanup(): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      console.error('cleanup:', (e as Error).message);
    }
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-map-'));
  cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);

  // 1. The inventory: 25 clusters x 100 hosts (racks of 20), 40,000 VMs, real-time clock.
  const dc = generateDatacenter({ clusters: CLUSTERS, hostsPerCluster: HOSTS_PER_CLUSTER, hostsPerRack: 20, vms: VMS, seed: 5 });
  const file = path.join(tmp, 'datacenter.json');
  fs.writeFileSync(file, JSON.stringify(dc));
  const tLoad = performance.now();
  const loaded = await runCli(['sim', 'load', file, '--json'], { dataDir, timeoutMs: 90_000 });
  if (loaded.code !== 0) throw new Error(`ferry sim load failed (${loaded.code}): ${loaded.stderr}`);
  const loadMs = performance.now() - tLoad;

  const tServe = performance.now();
  const served: Served = await startServe({ dataDir });
  cleanups.push(() => served.stop());
  servePid = served.process.pid;
  const serveMs = performance.now() - tServe;

  // 2. Chromium: the harness's flags, plus precise (unbucketed) performance.memory.
  const browser: Browser = await launchBrowser(['--enable-precise-memory-info']);
  cleanups.push(() => browser.close());
  const page = await browser.newPage({ viewport: VIEWPORT });
  page.setDefaultTimeout(60_000);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  await page.addInitScript(instrument);

  console.log(
    `cluster map: ${int(dc.hosts.length)} hosts (${CLUSTERS} clusters x ${HOSTS_PER_CLUSTER}), ${int(dc.vms.length)} VMs; ` +
      `Chromium ${browser.version()} headless, software rendering, ${VIEWPORT.width}x${VIEWPORT.height}, ${os.cpus().length} CPUs`,
  );
  const stale = staleBuild();
  if (stale.length) {
    console.log(`  ! dist/ is older than ${stale.length} source file(s) (${stale.slice(0, 4).join(', ')}${stale.length > 4 ? ', ...' : ''}): run \`npm run build\` to measure the current code`);
  }
  console.log(`  setup: inventory file ${mib(fs.statSync(file).size)}, sim load ${ms(loadMs)}, ferry serve ready in ${ms(serveMs)}`);

  let tGoto = 0;

  // 3. Time to first render.
  const mLoad0 = await metrics(cdp);
  tGoto = performance.now();
  await page.goto(served.url);
  await page.locator('[data-testid^="host-"]').first().waitFor({ state: 'visible' });
  const seenByPlaywright = performance.now() - tGoto;
  await page.waitForFunction(() => (window as unknown as BenchWindow).__bench.firstHostPaintedAt !== null);
  const mLoad1 = await metrics(cdp);
  const first = await page.evaluate(() => {
    const b = (window as unknown as BenchWindow).__bench;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const inv = b.calls.filter((c) => c.channel === 'inventory:get');
    return {
      inDom: b.firstHostAt,
      painted: b.firstHostPaintedAt,
      dcl: nav?.domContentLoadedEventEnd ?? null,
      fcp: fcp?.startTime ?? null,
      invRequests: inv.length,
      inv: inv[0] ?? null,
    };
  });
  console.log(
    `  time to first render: first host card in the DOM ${ms(first.inDom)} after navigation start, painted by ${ms(first.painted)} ` +
      `(DOMContentLoaded ${ms(first.dcl)}, first contentful paint ${ms(first.fcp)}; Playwright saw it visible ${ms(seenByPlaywright)} after goto)`,
  );
  const inv = first.inv;
  console.log(
    inv && inv.receivedAt !== null
      ? `  inventory:get: ${first.invRequests} request(s); sent at ${ms(inv.sentAt)}, response of ${mib(inv.chars)} in at ${ms(inv.receivedAt)} ` +
          `(${ms(inv.receivedAt - inv.sentAt)} server and transfer), then ${ms((first.inDom ?? NaN) - inv.receivedAt)} to parse, index and render the first host card`
      : `  inventory:get: not seen on the WebSocket (${first.invRequests} request(s))`,
  );
  console.log(`  load: ${busyLine(mLoad0, mLoad1, first.painted ?? seenByPlaywright)}`);

  await sleep(1000); // let late effects settle (fonts, measurements)
  const dom = await domCounts(page);
  console.log(
    `  rendered after load: ${dom.cards} of ${int(dc.hosts.length)} host cards, ${int(dom.chips)} of ${int(dc.vms.length)} VM chips, ` +
      `${dom.rows} virtual rows, ${int(dom.nodes)} DOM nodes; map scroll height ${int(dom.scrollHeight)} px (${int(dom.scrollHeight / Math.max(1, dom.clientHeight))} screens)`,
  );
  const heapLoad = await heap(page, cdp);
  console.log(`  ${memoryLine('memory after load', heapLoad, chromiumMemory(served.process.pid!))}`);
  await page.screenshot({ path: screenshotPath('map-scale.png') });

  const scroller = page.getByTestId('cluster-map');
  const box = (await scroller.boundingBox())!;

  // Idle baseline: what the headless frame clock does with nothing to draw.
  await page.evaluate(() => (window as unknown as BenchWindow).__bench.start());
  await sleep(1000);
  const idle = frameStats((await page.evaluate(() => (window as unknown as BenchWindow).__bench.stop())).deltas);
  console.log(`  ${frameLine('idle (baseline)', idle)}`);

  // 4a. Scrolling with the mouse wheel, as a user does: 100 px notches, as fast as they are taken.
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  {
    const top0 = await scroller.evaluate((el) => el.scrollTop);
    const m0 = await metrics(cdp);
    await page.evaluate(() => (window as unknown as BenchWindow).__bench.start());
    const tw = performance.now();
    let notches = 0;
    while (performance.now() - tw < PHASE_MS) {
      await page.mouse.wheel(0, 100);
      notches++;
      await sleep(10);
    }
    const wall = performance.now() - tw;
    const log = await page.evaluate(() => (window as unknown as BenchWindow).__bench.stop());
    const m1 = await metrics(cdp);
    const scrolled = (await scroller.evaluate((el) => el.scrollTop)) - top0;
    console.log(
      `  ${frameLine(`scrolling, mouse wheel (${(wall / 1000).toFixed(1)} s, ${notches} notches, ${int(scrolled)} px, ${int(scrolled / (wall / 1000))} px/s)`, frameStats(log.deltas))}`,
    );
    console.log(`    ${busyLine(m0, m1, wall)}; at most ${log.maxCards} host cards, ${int(log.maxChips)} chips, ${int(log.maxNodes)} DOM nodes`);
    console.log(`    ${longLine(log)}`);
  }

  // 4b. Scrolling at a steady 3,000 px/s, the scroll position set in every frame (a fling).
  {
    const m0 = await metrics(cdp);
    const wall0 = performance.now();
    const r = await scroller.evaluate(
      (el, { duration, pxPerSec }) =>
        new Promise<{ log: FrameLog; scrolled: number }>((resolve) => {
          const b = (window as unknown as BenchWindow).__bench;
          const top0 = el.scrollTop;
          const start = performance.now();
          b.start();
          const step = () => {
            const t = performance.now() - start;
            el.scrollTop = top0 + (pxPerSec * t) / 1000;
            if (t < duration) requestAnimationFrame(step);
            else resolve({ log: b.stop(), scrolled: el.scrollTop - top0 });
          };
          requestAnimationFrame(step);
        }),
      { duration: PHASE_MS, pxPerSec: 3000 },
    );
    const wall = performance.now() - wall0;
    const m1 = await metrics(cdp);
    console.log(`  ${frameLine(`scrolling, steady 3,000 px/s (${(wall / 1000).toFixed(1)} s, ${int(r.scrolled)} px)`, frameStats(r.log.deltas))}`);
    console.log(`    ${busyLine(m0, m1, wall)}; at most ${r.log.maxCards} host cards, ${int(r.log.maxChips)} chips, ${int(r.log.maxNodes)} DOM nodes`);
    console.log(`    ${longLine(r.log)}`);
  }

  // 5. Dragging a VM across the map: pick up a chip, sweep over host cards, hold at the
  // bottom edge (auto-scroll), then Escape.
  {
    await scroller.evaluate((el) => (el.scrollTop = 0));
    await sleep(500);
    const chip = page.locator('.host-card .chip').first();
    const vmId = ((await chip.getAttribute('data-testid')) ?? '').replace(/^vm-/, '');
    const c = (await chip.boundingBox())!;
    // Sweep targets: a point on every card in the middle band of the map, clear of
    // dnd-kit's auto-scroll zones (20% of the scroller's height at either edge).
    const band = { top: box.y + box.height * 0.21, bottom: box.y + box.height * 0.79 };
    const cards = await page.$$eval(
      '.host-card',
      (els, b) =>
        els
          .map((e) => e.getBoundingClientRect())
          .filter((r) => r.bottom > b.top + 10 && r.top < b.bottom - 10 && r.left >= 0 && r.right <= window.innerWidth)
          .map((r) => ({ x: r.left + r.width / 2, y: Math.min(Math.max(r.top + r.height / 2, b.top + 10), b.bottom - 10) }))
          .sort((p, q) => p.y - q.y || p.x - q.x),
      band,
    );
    if (cards.length < 2) throw new Error(`only ${cards.length} host cards fully on screen to drag over`);
    const m0 = await metrics(cdp);
    const top0 = await scroller.evaluate((el) => el.scrollTop);
    await page.evaluate(() => (window as unknown as BenchWindow).__bench.start());
    const td = performance.now();
    const pageStart = await page.evaluate(() => performance.now());
    let x = c.x + c.width / 2;
    let y = c.y + c.height / 2;
    let moves = 0;
    const moveTo = async (tx: number, ty: number) => {
      const n = Math.max(1, Math.round(Math.hypot(tx - x, ty - y) / 12));
      await page.mouse.move(tx, ty, { steps: n });
      moves += n;
      x = tx;
      y = ty;
    };
    await page.mouse.move(x, y);
    await page.mouse.down();
    await moveTo(x + 10, y + 10); // past the 6 px activation distance
    await page.getByTestId('drag-ghost').waitFor({ timeout: 10_000 });
    // Sweep over every card on screen, back and forth, for 60% of the phase...
    for (let k = 0; performance.now() - td < PHASE_MS * 0.6; k++) {
      const p = cards[k % cards.length]!;
      await moveTo(p.x, p.y);
    }
    // ...then hold near the bottom edge, wiggling, so dnd-kit auto-scrolls the map.
    const edgeY = box.y + box.height - 6;
    await moveTo(box.x + box.width / 2, edgeY);
    let wiggle = 0;
    while (performance.now() - td < PHASE_MS) {
      await moveTo(box.x + box.width / 2 + (wiggle++ % 2 ? 4 : -4), edgeY);
      await sleep(30);
    }
    const verdicts = await page.locator('.host-card[data-verdict]').count();
    const autoScrolled = (await scroller.evaluate((el) => el.scrollTop)) - top0;
    await page.keyboard.press('Escape');
    await page.mouse.up();
    const wall = performance.now() - td;
    const log = await page.evaluate(() => (window as unknown as BenchWindow).__bench.stop());
    const m1 = await metrics(cdp);
    const left = await page.locator('.host-card[data-verdict]').count();
    const dest = await page.evaluate(
      (since) => (window as unknown as BenchWindow).__bench.calls.find((c) => c.channel === 'migrations:destinations' && c.sentAt >= since) ?? null,
      pageStart,
    );
    const dialogs = await page.getByRole('dialog').count();
    console.log(
      `  ${frameLine(`dragging ${vmId} (${(wall / 1000).toFixed(1)} s, ${moves} pointer moves over ${cards.length} cards, auto-scrolled ${int(autoScrolled)} px)`, frameStats(log.deltas))}`,
    );
    console.log(
      `    ${busyLine(m0, m1, wall)}; at most ${log.maxCards} host cards, ${int(log.maxChips)} chips, ${int(log.maxNodes)} DOM nodes`,
    );
    console.log(`    ${longLine(log)}`);
    console.log(
      `    destinations: cards coloured ${ms(log.firstVerdictAt === null ? null : log.firstVerdictAt - pageStart)} after pointer down` +
        (dest && dest.receivedAt !== null
          ? ` (migrations:destinations asked at ${ms(dest.sentAt - pageStart)}, ${mib(dest.chars)} answer after ${ms(dest.receivedAt - dest.sentAt)}, ` +
            `cards coloured ${ms((log.firstVerdictAt ?? NaN) - dest.receivedAt)} later)`
          : ' (no migrations:destinations answer seen)') +
        `; ${log.hovered.length} hosts hovered in turn (${log.hovered.slice(0, 3).join(', ')}${log.hovered.length > 3 ? ', ...' : ''}), ${verdicts} cards with a verdict at the end`,
    );
    if (left || dialogs) console.log(`    ! after Escape: ${left} cards still coloured, ${dialogs} dialog(s) open`);
  }

  await sleep(300);
  const heapDrag = await heap(page, cdp);
  console.log(`  ${memoryLine('memory after the drag', heapDrag, chromiumMemory(served.process.pid!))}`);

  // 6. Live updates: migrations of small VMs run and end while the map scrolls, so the
  // inventory changes under it (each change refetches it, coalesced to one per 300 ms).
  {
    const used = new Map<string, number>();
    for (const v of dc.vms) used.set(v.host, (used.get(v.host) ?? 0) + v.memoryMiB);
    const taken = new Set<string>();
    const moves: Array<{ vm: string; to: string }> = [];
    for (const v of dc.vms) {
      if (moves.length >= LIVE_MIGRATIONS) break;
      if (!v.id.startsWith('infra-') || v.memoryMiB > 2048 || taken.has(v.host)) continue;
      const cluster = dc.hosts.find((h) => h.id === v.host)!.cluster;
      const to = dc.hosts
        .filter((h) => h.cluster === cluster && h.id !== v.host && !taken.has(h.id))
        .sort((a, b) => (used.get(a.id) ?? 0) / a.memoryMiB - (used.get(b.id) ?? 0) / b.memoryMiB)[0];
      if (!to) continue;
      taken.add(v.host);
      taken.add(to.id);
      moves.push({ vm: v.id, to: to.id });
    }
    const m0 = await metrics(cdp);
    const wall0 = performance.now();
    const r = await scroller.evaluate(
      async (el, { duration, pxPerSec, moves }) => {
        const b = (window as unknown as BenchWindow).__bench;
        // A second connection, as another console would be: the page's own is private.
        const token = new URLSearchParams(location.search).get('token') ?? '';
        const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api?token=${encodeURIComponent(token)}`);
        await new Promise((ok, fail) => ((ws.onopen = ok), (ws.onerror = fail)));
        const answers = new Map<number, (ok: boolean) => void>();
        ws.onmessage = (ev) => {
          const msg = JSON.parse(String(ev.data)) as { type: string; id?: number; envelope?: { ok: boolean } };
          if (msg.type === 'result' && msg.id !== undefined) answers.get(msg.id)?.(msg.envelope?.ok ?? false);
        };
        const since = performance.now();
        const started = await Promise.all(
          moves.map(
            (m, i) =>
              new Promise<boolean>((resolve) => {
                answers.set(1_000_000 + i, resolve);
                ws.send(JSON.stringify({ type: 'invoke', id: 1_000_000 + i, channel: 'migrations:start', req: { vms: [m.vm], to: m.to } }));
              }),
          ),
        );
        const top0 = el.scrollTop;
        const start = performance.now();
        b.start();
        const log = await new Promise<FrameLog>((resolve) => {
          const step = () => {
            const t = performance.now() - start;
            el.scrollTop = top0 + (pxPerSec * t) / 1000;
            if (t < duration) requestAnimationFrame(step);
            else resolve(b.stop());
          };
          requestAnimationFrame(step);
        });
        ws.close();
        const refetches = b.calls.filter((c) => c.channel === 'inventory:get' && c.sentAt >= since);
        const done = refetches.filter((c) => c.receivedAt !== null);
        return {
          log,
          started: started.filter(Boolean).length,
          refetches: refetches.length,
          meanMs: done.reduce((sum, c) => sum + (c.receivedAt! - c.sentAt), 0) / (done.length || 1),
          chars: done[0]?.chars ?? 0,
        };
      },
      { duration: PHASE_MS, pxPerSec: 1500, moves },
    );
    const wall = performance.now() - wall0;
    const m1 = await metrics(cdp);
    console.log(
      `  ${frameLine(`scrolling at 1,500 px/s while ${r.started} of ${moves.length} migrations run and end (${(wall / 1000).toFixed(1)} s)`, frameStats(r.log.deltas))}`,
    );
    console.log(
      `    ${busyLine(m0, m1, wall)}; ${r.refetches} inventory refetch(es) of ${mib(r.chars)} in the phase, ${ms(r.meanMs)} each from request to response`,
    );
    console.log(`    ${longLine(r.log)}`);
  }
  const serverRss = (() => {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${served.process.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    } catch {
      return NaN;
    }
  })();
  const domEnd = await domCounts(page);
  console.log(`  at the end: ${domEnd.cards} host cards, ${int(domEnd.chips)} chips, ${int(domEnd.nodes)} DOM nodes; ferry serve RSS ${Number.isFinite(serverRss) ? mib(serverRss) : 'n/a'}`);
  if (maxOthers > 15) {
    console.log(`  ! other processes took up to ${maxOthers.toFixed(0)}% of the machine's CPUs during a phase: its frame times are inflated; rerun on a quiet machine`);
  }
  console.log(`  (benchmark wall time ${((performance.now() - t0) / 1000).toFixed(0)} s; screenshot ${path.relative(process.cwd(), screenshotPath('map-scale.png'))})`);
}

const watchdog = setTimeout(() => {
  console.error(`map-scale: still running after ${DEADLINE_MS / 1000} s, giving up`);
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);

main()
  .then(cleanup, async (e) => {
    console.error(e);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(watchdog));
