// Where QEMU processes run. The driver never spawns or signals a process itself: it asks a
// HostRunner. LocalRunner runs every lab host on this machine, each host a directory and
// a loopback port range; a runner for hosts reached over SSH can implement the same
// interface (spawn through ssh, QMP through a forwarded unix socket, tcp:<host>:<port>).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { QmpTarget } from './qmp';
import { procStat } from '../pid';
export { socketDir } from '../data-dir';

/** A QEMU process, identified so that a later Ferry process never signals a stranger. */
export interface QemuProc {
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot): a reused pid has another. */
  startTicks: string;
  /** A string the process's command line must contain (its QMP socket path). */
  marker: string;
}

export interface RunnerHost {
  id: string;
  /** First and last TCP port this host may listen on for incoming migrations. */
  portBase: number;
  portCount: number;
}

export interface HostRunner {
  readonly kind: 'local' | 'ssh';
  /** The directory of a host: sockets, serial logs, QEMU logs. */
  hostDir(hostId: string): string;
  prepareHost(host: RunnerHost): void;
  removeHost(hostId: string): void;
  /** Starts QEMU detached from Ferry (it outlives the CLI that started it). */
  startQemu(hostId: string, logName: string, args: string[], marker: string): QemuProc;
  /** Synchronous: used by inventory(). False for a zombie or a reused pid. */
  isRunning(p: QemuProc): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(p: QemuProc, graceMs?: number): Promise<void>;
  /** SIGKILL now (tests: a destination dying mid-migration). */
  kill(p: QemuProc): void;
  /** How Ferry reaches a QMP socket created on the host. */
  qmpTarget(socketPath: string): QmpTarget;
  /** A free port in the host's range, for `migrate-incoming`. */
  freePort(host: RunnerHost): Promise<number>;
  /** The URI the destination listens on and the source connects to. */
  migrationUri(host: RunnerHost, port: number): string;
  readText(file: string): string;
  /**
   * Guest memory a running QEMU's page table maps, MiB, or null when it cannot tell. A page
   * this process never touched is unmapped; the migration's first pass faults each such page
   * in to read it (a measured cost: QEMU_CALIBRATION).
   */
  residentMiB(p: QemuProc, guestMiB: number): number | null;
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export class LocalRunner implements HostRunner {
  readonly kind = 'local' as const;

  constructor(
    /** <dataDir>/lab/hosts */
    private readonly root: string,
    private readonly qemuBinary = process.env.FERRY_QEMU ?? 'qemu-system-x86_64',
  ) {}

  hostDir(hostId: string): string {
    return path.join(this.root, hostId);
  }

  prepareHost(host: RunnerHost): void {
    fs.mkdirSync(this.hostDir(host.id), { recursive: true });
  }

  removeHost(hostId: string): void {
    fs.rmSync(this.hostDir(hostId), { recursive: true, force: true });
  }

  startQemu(hostId: string, logName: string, args: string[], marker: string): QemuProc {
    const log = fs.openSync(path.join(this.hostDir(hostId), `${logName}.log`), 'w');
    try {
      // detached: its own session, so a Ctrl-C on the CLI does not reach the lab's guests.
      const child = spawn(this.qemuBinary, args, { detached: true, stdio: ['ignore', log, log] });
      child.on('error', () => {}); // ENOENT surfaces below as a missing pid
      child.unref();
      if (!child.pid) throw new Error(`cannot start ${this.qemuBinary} (is qemu-system-x86 installed?)`);
      const st = procStat(child.pid);
      return { pid: child.pid, startTicks: st?.startTicks ?? '', marker };
    } finally {
      fs.closeSync(log);
    }
  }

  isRunning(p: QemuProc): boolean {
    const st = procStat(p.pid);
    if (!st || st.state === 'Z' || st.state === 'X') return false;
    if (p.startTicks && st.startTicks !== p.startTicks) return false;
    return cmdline(p.pid).includes(p.marker);
  }

  async stop(p: QemuProc, graceMs = 3000): Promise<void> {
    if (!this.isRunning(p)) return;
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      return;
    }
    const end = Date.now() + graceMs;
    while (Date.now() < end) {
      if (!this.isRunning(p)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    this.kill(p);
    const hard = Date.now() + 2000;
    while (this.isRunning(p) && Date.now() < hard) await new Promise((r) => setTimeout(r, 20));
  }

  residentMiB(p: QemuProc, guestMiB: number): number | null {
    if (!this.isRunning(p)) return null;
    try {
      const range = guestRamMapping(fs.readFileSync(`/proc/${p.pid}/maps`, 'utf8'), guestMiB);
      return range ? Math.min(guestMiB, presentBytes(p.pid, range) / 2 ** 20) : null;
    } catch {
      return null;
    }
  }

  kill(p: QemuProc): void {
    if (!this.isRunning(p)) return;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  qmpTarget(socketPath: string): QmpTarget {
    return { path: socketPath };
  }

  async freePort(host: RunnerHost): Promise<number> {
    const start = Math.floor(Math.random() * host.portCount);
    for (let i = 0; i < host.portCount; i++) {
      const port = host.portBase + ((start + i) % host.portCount);
      if (await portFree(port)) return port;
    }
    throw new Error(`no free port in ${host.portBase}-${host.portBase + host.portCount - 1} on ${host.id}`);
  }

  migrationUri(_host: RunnerHost, port: number): string {
    // The network rule: lab hosts are local, so migrations stay on loopback.
    return `tcp:127.0.0.1:${port}`;
  }

  readText(file: string): string {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Where a QEMU process maps its guest's RAM, from /proc/<pid>/maps: the smallest private
 * read-write anonymous mapping at least as large as the guest's memory (QEMU maps guest RAM
 * in one piece, maybe slightly larger; TCG's code buffer is larger still, 1 GiB here, but
 * executable). Null when there is none.
 */
export function guestRamMapping(maps: string, guestMiB: number): [number, number] | null {
  let best: [number, number] | null = null;
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\d+\s*(.*)$/.exec(line);
    if (!m || m[3] !== 'rw-p' || m[4]!.trim() !== '') continue;
    const a = Number.parseInt(m[1]!, 16);
    const b = Number.parseInt(m[2]!, 16);
    if (b - a >= guestMiB * 2 ** 20 && (!best || b - a < best[1] - best[0])) best = [a, b];
  }
  return best;
}

/**
 * Bytes of [start, end) that the process's page table maps, from /proc/<pid>/pagemap (bit 63
 * of each page's entry: present, whether backed by RAM or by the kernel's shared zero page).
 * This, not Rss, is what the first pass of a migration pays for: reading an unmapped page
 * faults it in (to find it zero). A freshly booted 512 MiB guest here had 174 MiB mapped and
 * the same guest after receiving a migration all 512 (QEMU's loader reads every zero page it
 * is sent), with the same Rss; its next migration was 1.6x faster.
 */
export function presentBytes(pid: number, [start, end]: [number, number]): number {
  const PAGE = 4096;
  const CHUNK = 64 * 1024; // entries per read: 512 KiB
  const fd = fs.openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    const buf = Buffer.alloc(CHUNK * 8);
    let present = 0;
    for (let page = Math.floor(start / PAGE); page < Math.floor(end / PAGE); page += CHUNK) {
      const n = Math.min(CHUNK, Math.floor(end / PAGE) - page);
      const got = fs.readSync(fd, buf, 0, n * 8, page * 8);
      for (let i = 0; i < got / 8; i++) if (buf.readUInt32LE(i * 8 + 4) & 0x80000000) present++;
    }
    return present * PAGE;
  } finally {
    fs.closeSync(fd);
  }
}
