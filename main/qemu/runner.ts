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
   * Guest memory the host holds in RAM for a running QEMU, MiB, or null when it cannot
   * tell. A page the guest never wrote on this host has no RAM behind it; the migration's
   * first pass faults each such page in to read it (a measured cost: QEMU_CALIBRATION).
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
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${p.pid}/smaps`, 'utf8');
    } catch {
      return null;
    }
    return guestRamRssMiB(text, guestMiB);
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
 * The resident size of the guest's RAM in a QEMU process's /proc/<pid>/smaps: the smallest
 * private read-write anonymous mapping at least as large as the guest's memory (QEMU maps
 * guest RAM in one piece, maybe slightly larger; TCG's code buffer is larger still, 1 GiB
 * here, but executable). Null when there is none.
 */
export function guestRamRssMiB(smaps: string, guestMiB: number): number | null {
  let best: { sizeKiB: number; rssKiB: number } | null = null;
  let cur: { anon: boolean; sizeKiB: number; rssKiB: number } | null = null;
  const close = () => {
    if (cur && cur.anon && cur.sizeKiB >= guestMiB * 1024 && (!best || cur.sizeKiB < best.sizeKiB)) best = { sizeKiB: cur.sizeKiB, rssKiB: cur.rssKiB };
  };
  for (const line of smaps.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+\s+(\S+)\s+\S+\s+\S+\s+\d+\s*(.*)$/.exec(line);
    if (head) {
      close();
      cur = { anon: head[1] === 'rw-p' && head[2]!.trim() === '', sizeKiB: 0, rssKiB: 0 };
      continue;
    }
    if (!cur) continue;
    const kv = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    if (kv) {
      if (kv[1] === 'Size') cur.sizeKiB = Number(kv[2]);
      else cur.rssKiB = Number(kv[2]);
    }
  }
  close();
  const found = best as { sizeKiB: number; rssKiB: number } | null;
  return found ? Math.min(guestMiB, found.rssKiB / 1024) : null;
}
