// Soak: does `ferry serve` hold its memory over many migrations? Starts the built server
// (node --inspect=127.0.0.1:0 bin/ferry.js serve --json --port 0 --speed virtual) on a
// temporary data directory, talks to it over its WebSocket with the token it printed (the
// contract's invoke/result messages of preload/wire.ts), runs SERIAL migrations back to
// back (one VM back and forth between two hosts of one cluster), then BURST at once (each
// its own VM, to a destination migrations:destinations calls green or amber), BURST_ROUNDS
// times, sampling the server's resident memory from /proc/<pid>/status (VmRSS) every
// SAMPLE_MS. Prints RSS at start, at each 100 migrations and at the end, the slope after
// warm-up, the ratio end/start and whether it stays flat. Flat: under 10 % growth from the
// first 100 migrations (the warm-up: JIT, caches, SQLite pages) to the end, for RSS and for
// the live heap (heap used after a full GC, forced through the server's inspector at each
// mark, which tells a leak from garbage not yet collected); for the bursts, RSS after the
// last within 10 % of RSS after the first. The event bus's live listeners (app:diagnostics)
// are compared at the start and the end; the history's count is printed at the end.
//   SERIAL=7000 BURST=100 BURST_ROUNDS=3 npm run bench soak   (`npm run build` first: it runs dist/)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import WebSocket from 'ws';
import type { Envelope, Channel, Destination } from '../preload/contract';
import type { ServerMessage } from '../preload/wire';
import type { Inventory, MigrationRecord } from '../preload/model';
import { ENDED_KEPT } from '../main/engine/constants';

const SERIAL = Number(process.env.SERIAL ?? 500);
const BURST = Number(process.env.BURST ?? 50);
const BURST_ROUNDS = Number(process.env.BURST_ROUNDS ?? 2);
const SAMPLE_MS = 200;
const FLAT = 0.1;
const root = path.resolve(__dirname, '..', '..');
const MiB = 1024 * 1024;

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

/**
 * The server's live JS heap: through its inspector (started on a loopback port of its own),
 * a full garbage collection and then process.memoryUsage(), so that a leak (live objects
 * that grow) can be told apart from RSS the process only keeps (garbage not yet collected,
 * allocator pages, SQLite's page cache). Read after RSS at each mark.
 */
class HeapProbe {
  private nextId = 1;
  private pending = new Map<number, (r: { result?: { result?: { value?: string } } }) => void>();
  /** Memory outside the JS heap that V8 knows of (Buffers, ArrayBuffers), at the last liveMiB(). */
  externalMiB = NaN;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const msg = JSON.parse(String(d)) as { id?: number };
      if (msg.id !== undefined) this.pending.get(msg.id)?.(msg as never), this.pending.delete(msg.id);
    });
  }
  static async open(url: string): Promise<HeapProbe> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    return new HeapProbe(ws);
  }
  private send(method: string, params: unknown = {}): Promise<{ result?: { result?: { value?: string } } }> {
    const id = this.nextId++;
    return new Promise((resolve) => (this.pending.set(id, resolve), this.ws.send(JSON.stringify({ id, method, params }))));
  }
  /** Heap used after a full GC, MiB. */
  async liveMiB(): Promise<number> {
    await this.send('HeapProfiler.collectGarbage');
    const r = await this.send('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const mem = JSON.parse(r.result?.result?.value ?? '{}') as { heapUsed?: number; external?: number };
    this.externalMiB = (mem.external ?? NaN) / MiB;
    return (mem.heapUsed ?? NaN) / MiB;
  }
  close() {
    this.ws.close();
  }
}

async function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string; port: number; inspector: string }> {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', path.join(root, 'bin', 'ferry.js'), 'serve', '--json', '--port', '0', '--data-dir', dataDir, '--speed', 'virtual'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const inspectorUrl = new Promise<string>((resolve) => {
    child.stderr!.on('data', (d) => {
      const text = String(d);
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
      if (m) return resolve(m[1]!);
      if (/inspector|Debugger/.test(text)) return;
      process.stderr.write(`  [server] ${text}`);
    });
  });
  try {
    return await addressOf(child, inspectorUrl);
  } catch (e) {
    // A server that started but could not be read from is stopped, not left running.
    if (child.exitCode === null) child.kill('SIGTERM');
    throw e;
  }
}

async function addressOf(child: ChildProcess, inspectorUrl: Promise<string>): Promise<{ child: ChildProcess; url: string; port: number; inspector: string }> {
  // --json prints one (indented) object: read lines until they parse.
  const text = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    let acc = '';
    let resolved = false;
    rl.on('line', (line) => {
      if (resolved) return;
      acc += line + '\n';
      try {
        JSON.parse(acc);
        resolved = true;
        resolve(acc);
      } catch {
        // not the whole object yet
      }
    });
    child.once('exit', (code) => reject(new Error(`ferry serve exited (${code}) before printing its address`)));
  });
  const { url, port } = JSON.parse(text) as { url: string; port: number };
  const inspector = await Promise.race([inspectorUrl, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no inspector address from the server')), 10_000).unref())]);
  return { child, url, port, inspector };
}

/** The contract over the server's WebSocket, as renderer/src/ws-transport.ts speaks it. */
class Client {
  private nextId = 1;
  private pending = new Map<number, (e: Envelope<unknown>) => void>();
  private ended = new Map<string, (r: MigrationRecord) => void>();
  private endedEarly = new Map<string, MigrationRecord>();
  events = 0;
  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      if (msg.type === 'result') {
        this.pending.get(msg.id)?.(msg.envelope);
        this.pending.delete(msg.id);
        return;
      }
      this.events++;
      if (msg.event === 'migrations:ended') {
        const r = msg.payload as MigrationRecord;
        const done = this.ended.get(r.id);
        if (done) (this.ended.delete(r.id), done(r));
        else this.endedEarly.set(r.id, r);
      }
    });
  }
  static async open(url: string, port: number): Promise<Client> {
    const token = new URL(url).searchParams.get('token')!;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${encodeURIComponent(token)}`);
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    return new Client(ws);
  }
  async call<T>(channel: Channel, req: unknown = {}): Promise<T> {
    const id = this.nextId++;
    const env = await new Promise<Envelope<unknown>>((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ type: 'invoke', id, channel, req }));
    });
    if (!env.ok) throw new Error(`${channel}: ${env.error.code}: ${env.error.message}`);
    return env.value as T;
  }
  whenEnded(id: string): Promise<MigrationRecord> {
    const early = this.endedEarly.get(id);
    if (early) return (this.endedEarly.delete(id), Promise.resolve(early));
    return new Promise((resolve) => this.ended.set(id, resolve));
  }
  close() {
    this.ws.close();
  }
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(root, 'dist', 'cli', 'ferry.js')) || !fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) {
    throw new Error('run `npm run build` first');
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-soak-'));
  const started = await startServer(dataDir).catch((e: unknown) => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });
  const { child, url, port, inspector } = started;
  // From here on the server is stopped whatever happens (a failed start would leave it running).
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let heap: HeapProbe;
  let client: Client;
  try {
    heap = await HeapProbe.open(inspector);
    client = await Client.open(url, port);
  } catch (e) {
    await stop();
    throw e;
  }
  const pid = child.pid!;
  const samples: { t: number; done: number; rss: number }[] = [];
  let done = 0;
  const t0 = performance.now();
  const sampler = setInterval(() => samples.push({ t: performance.now() - t0, done, rss: rssOf(pid) }), SAMPLE_MS);
  try {
    const inv = await client.call<Inventory>('inventory:get');
    const startRss = rssOf(pid);
    const listeners = (d: { eventListeners: Record<string, number> }) => Object.values(d.eventListeners).reduce((a, n) => a + n, 0);
    const diag0 = await client.call<{ eventListeners: Record<string, number> }>('app:diagnostics');
    const startLive = await heap.liveMiB();
    // Two hosts of one cluster and a VM on the first that the second can take.
    const byCluster = new Map<string, string[]>();
    for (const h of inv.hosts) if (h.state === 'up') byCluster.set(h.cluster, [...(byCluster.get(h.cluster) ?? []), h.id]);
    let pair: { vm: string; a: string; b: string } | null = null;
    for (const vm of [...inv.vms].sort((x, y) => x.memoryMiB - y.memoryMiB)) {
      const dests = await client.call<Destination[]>('migrations:destinations', { vm: vm.id });
      const ok = dests.find((d) => d.verdict === 'green' && (byCluster.get(inv.hosts.find((h) => h.id === vm.host)!.cluster) ?? []).includes(d.host));
      if (ok) {
        pair = { vm: vm.id, a: vm.host, b: ok.host };
        break;
      }
    }
    if (!pair) throw new Error('no VM with a green destination in its cluster');
    console.log(`soak: ferry serve (pid ${pid}) on ${inv.hosts.length} hosts, ${inv.vms.length} VMs, virtual clock; ${pair.vm} back and forth between ${pair.a} and ${pair.b}`);
    console.log(`  RSS at start (inventory read): ${mib(startRss)}; live heap (after a full GC) ${startLive.toFixed(1)} MiB`);

    const marks: { done: number; rss: number; live: number }[] = [{ done: 0, rss: startRss, live: startLive }];
    const failed: string[] = [];
    const serialStart = performance.now();
    for (let i = 0; i < SERIAL; i++) {
      const to = i % 2 === 0 ? pair.b : pair.a;
      const [rec] = await client.call<MigrationRecord[]>('migrations:start', { vms: [pair.vm], to, strategy: 'auto' });
      const end = await client.whenEnded(rec!.id);
      if (end.outcome !== 'completed') failed.push(`${end.id}: ${end.outcome} ${end.reason}`);
      done++;
      if (done % 100 === 0) {
        const rss = rssOf(pid);
        const live = await heap.liveMiB();
        marks.push({ done, rss, live });
        console.log(
          `  after ${String(done).padStart(4)} migrations: RSS ${mib(rss)}  (${((rss / startRss) * 100).toFixed(0)} % of start); ` +
            `live heap (after a full GC) ${live.toFixed(1)} MiB`,
        );
      }
    }
    const serialS = (performance.now() - serialStart) / 1000;
    const serialEnd = rssOf(pid);
    console.log(`  ${SERIAL} back to back in ${serialS.toFixed(1)} s wall (${(SERIAL / serialS).toFixed(1)} migrations/s), ${failed.length} not completed`);

    // The burst: BURST VMs at once, each to a destination the server itself recommends.
    // Run BURST_ROUNDS times: RSS that a second burst does not raise again is the process's
    // high-water mark kept (allocator pages), not memory that leaks with each burst.
    let endRss = serialEnd;
    let endLive = NaN;
    const afterBursts: number[] = [];
    for (let round = 1; round <= BURST_ROUNDS; round++) {
      let burstPeak = 0;
      const peakProbe = setInterval(() => (burstPeak = Math.max(burstPeak, rssOf(pid))), 50);
      const burstStart = performance.now();
      const starts: Promise<MigrationRecord>[] = [];
      const taken = new Set<string>([pair.vm]);
      const now = await client.call<Inventory>('inventory:get');
      for (const vm of now.vms) {
        if (starts.length >= BURST) break;
        if (taken.has(vm.id) || vm.state !== 'running') continue;
        const dests = await client.call<Destination[]>('migrations:destinations', { vm: vm.id });
        const d = dests.find((x) => x.verdict === 'green') ?? dests.find((x) => x.verdict === 'amber');
        if (!d) continue;
        try {
          const [rec] = await client.call<MigrationRecord[]>('migrations:start', { vms: [vm.id], to: d.host });
          taken.add(vm.id);
          starts.push(client.whenEnded(rec!.id));
        } catch {
          // Room taken by an earlier one of the burst: the next VM.
        }
      }
      const ends = await Promise.all(starts);
      clearInterval(peakProbe);
      done += ends.length;
      const burstS = (performance.now() - burstStart) / 1000;
      await new Promise((r) => setTimeout(r, 1000));
      endRss = rssOf(pid);
      endLive = await heap.liveMiB();
      afterBursts.push(endRss);
      const burstFailed = ends.filter((e) => e.outcome !== 'completed').length;
      console.log(
        `  burst ${round}: ${ends.length} at once in ${burstS.toFixed(1)} s wall, ${burstFailed} not completed; RSS peak ${mib(burstPeak)}, ` +
          `1 s after the last ${mib(endRss)}; live heap (after a full GC) ${endLive.toFixed(1)} MiB, external ${heap.externalMiB.toFixed(1)} MiB`,
      );
    }
    console.log(`  RSS at the end (${done} migrations): ${mib(endRss)}; live heap (after a full GC) ${endLive.toFixed(1)} MiB`);

    const history = await client.call<{ total: number }>('history:list', { limit: 1 });
    const active = await client.call<unknown[]>('migrations:active');
    console.log(`  history holds ${history.total} migrations (expected ${done + 0}); active after: ${active.length}; events received: ${client.events}`);

    // Flat: growth after warm-up (the first 100 migrations) under FLAT.
    const warm = marks.find((m) => m.done >= 100) ?? marks[0]!;
    const after = marks.filter((m) => m.done >= warm.done);
    const lastMark = after[after.length - 1]!;
    const perHundred = slope(after.map((m) => [m.done / 100, m.rss / MiB]));
    const serialGrowth = lastMark.rss / warm.rss - 1;
    const endGrowth = endRss / warm.rss - 1;
    const liveGrowth = Math.max(lastMark.live, endLive) / warm.live - 1;
    const liveSlope = slope(after.map((m) => [m.done / 100, m.live]));
    const burstGrowth = afterBursts.length > 1 ? afterBursts[afterBursts.length - 1]! / afterBursts[0]! - 1 : 0;
    const yes = (g: number) => (g < FLAT ? 'yes' : 'NO');
    console.log(`  RSS slope after warm-up: ${perHundred.toFixed(2)} MiB per 100 migrations (${((perHundred * MiB) / 100 / 1024).toFixed(1)} KiB per migration)`);
    console.log(`  live heap slope after warm-up: ${liveSlope.toFixed(2)} MiB per 100 migrations (${((liveSlope * MiB) / 100 / 1024).toFixed(1)} KiB per migration)`);
    console.log(`  ratio end/start: ${(endRss / startRss).toFixed(2)}; end/after-warm-up (${warm.done}): ${(endRss / warm.rss).toFixed(2)}; last serial mark/after-warm-up: ${(lastMark.rss / warm.rss).toFixed(2)}`);
    console.log(`  (the engine keeps the newest ${ENDED_KEPT} ended records in memory, ENDED_KEPT: the live heap may rise until that many have ended, then level off)`);
    console.log(`  flat, under ${FLAT * 100} % growth after warm-up:`);
    console.log(`    RSS over the serial run: ${yes(serialGrowth)} (${(serialGrowth * 100).toFixed(1)} %, ${mib(warm.rss)} -> ${mib(lastMark.rss)})`);
    console.log(`    live heap, serial and bursts: ${yes(liveGrowth)} (${(liveGrowth * 100).toFixed(1)} %, ${warm.live.toFixed(1)} -> ${Math.max(lastMark.live, endLive).toFixed(1)} MiB)`);
    if (afterBursts.length > 1) console.log(`    RSS burst over burst: ${yes(burstGrowth)} (${(burstGrowth * 100).toFixed(1)} % after the last vs after the first)`);
    console.log(
      `    RSS at the end vs after warm-up: ${yes(endGrowth)} (${(endGrowth * 100).toFixed(1)} %)` +
        (endGrowth >= FLAT && liveGrowth < FLAT ? ": the bursts' high-water mark kept by the process (native memory, not live JS objects)" : ''),
    );
    const diag1 = await client.call<{ eventListeners: Record<string, number> }>('app:diagnostics');
    console.log(`  live event listeners (app:diagnostics): ${listeners(diag0)} at the start, ${listeners(diag1)} at the end (${Object.entries(diag1.eventListeners).map(([e, n]) => `${e} ${n}`).join(', ')}): ${listeners(diag1) <= listeners(diag0) ? 'flat' : 'GROWING'}`);
    if (failed.length) console.log(`  not completed: ${failed.slice(0, 5).join('; ')}${failed.length > 5 ? ' ...' : ''}`);
    const trace = samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0);
    console.log(`  RSS over time: ${trace.map((s) => `${(s.t / 1000).toFixed(0)}s/${s.done}:${(s.rss / MiB).toFixed(0)}`).join(' ')}`);
  } finally {
    clearInterval(sampler);
    client.close();
    heap.close();
    await stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
