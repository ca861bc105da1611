// The guest: where its image is, how a workload is written, and the QEMU command line
// every incarnation of a guest shares (the destination of a migration must be started
// with the same machine arguments as the source, plus `-incoming defer`).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface GuestImage {
  dir: string;
  kernel: string;
  initrd: string;
}

/** The repository root (where scripts/build-guest-image.sh is), from source, bundle or cwd. */
export function repoRoot(): string {
  const starts = [process.env.FERRY_ROOT, typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    if (!start) continue;
    let dir = path.resolve(start);
    for (let i = 0; i < 6; i++) {
      if (fs.existsSync(path.join(dir, 'scripts', 'build-guest-image.sh'))) return dir;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('cannot find scripts/build-guest-image.sh (set FERRY_ROOT to the Ferry checkout)');
}

/**
 * Builds the guest image if needed (cached by its inputs; ~4 s the first time, ~1.5 s to
 * find it cached) and returns it. FERRY_GUEST_DIR points at a prebuilt one instead.
 */
export function ensureGuestImage(log: (line: string) => void = () => {}): GuestImage {
  let dir = process.env.FERRY_GUEST_DIR;
  if (!dir) {
    const script = path.join(repoRoot(), 'scripts', 'build-guest-image.sh');
    let stdout: string;
    try {
      stdout = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`building the guest image failed: ${(err.stderr || err.message).trim().split('\n').slice(-3).join(' ')}`);
    }
    const lines = stdout.trim().split('\n');
    for (const l of lines.slice(0, -1)) log(l);
    dir = lines.at(-1)!;
  }
  const img = { dir, kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.gz') };
  if (!fs.existsSync(img.kernel) || !fs.existsSync(img.initrd)) throw new Error(`no guest image in ${dir} (vmlinuz, initrd.gz)`);
  return img;
}

const vmName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'a VM name is letters, digits, ".", "_" or "-" (at most 40)');

export const vmSpecSchema = z
  .object({
    name: vmName,
    mem: z.number().int().min(128).max(16384).default(512),
    wss: z.number().min(0).default(64),
    rate: z.number().min(0).max(100_000).default(20),
    vcpus: z.number().int().min(1).max(8).default(1),
    /** How the guest writes its working set: in order (sweep, the default) or at random pages. */
    order: z.enum(['sweep', 'random']).optional(),
    host: z.string().optional(),
  })
  .strict()
  .refine((v) => v.wss <= v.mem - 96, { message: 'the working set must leave at least 96 MiB of the guest memory to the kernel' });
export type VmSpec = z.output<typeof vmSpecSchema>;

export const labFileSchema = z
  .object({
    hosts: z.number().int().min(2).max(16).default(3),
    vms: z.array(vmSpecSchema).max(64).default([]),
  })
  .strict();

/** "web:mem=512,wss=128,rate=50[,vcpus=1][,order=random][,host=lab-h2]" */
export function parseVmSpec(text: string): VmSpec {
  const [name, rest = ''] = text.split(/:(.*)/s, 2) as [string, string?];
  const raw: Record<string, unknown> = { name };
  for (const part of rest.split(',').filter(Boolean)) {
    const [k, v] = part.split('=', 2);
    if (!k || v === undefined || v === '') throw new Error(`--vm ${text}: "${part}" is not key=value`);
    const key = k.trim();
    const words = key === 'host' || key === 'order';
    raw[key] = words ? v.trim() : Number(v);
    if (!words && !Number.isFinite(raw[key])) throw new Error(`--vm ${text}: ${key} must be a number`);
  }
  const res = vmSpecSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new Error(`--vm ${text}: ${issue.path.join('.') || 'spec'}: ${issue.message}`);
  }
  return res.data;
}

/** The default workloads of `ferry lab up --vms N`: from idle to faster than any cap. */
const DEFAULT_WORKLOADS: Omit<VmSpec, 'name'>[] = [
  { mem: 256, wss: 32, rate: 10, vcpus: 1 },
  { mem: 512, wss: 128, rate: 20, vcpus: 1 },
  { mem: 512, wss: 256, rate: 400, vcpus: 1 },
  { mem: 384, wss: 96, rate: 50, vcpus: 1 },
  { mem: 512, wss: 64, rate: 120, vcpus: 1 },
  { mem: 256, wss: 16, rate: 0, vcpus: 1 },
];

export function defaultVmSpecs(n: number, taken: Set<string> = new Set()): VmSpec[] {
  const out: VmSpec[] = [];
  for (let i = 1; out.length < n; i++) {
    const name = `lab-vm${i}`;
    if (taken.has(name)) continue;
    out.push({ name, ...DEFAULT_WORKLOADS[out.length % DEFAULT_WORKLOADS.length]! });
  }
  return out;
}

export interface GuestArgs {
  vmId: string;
  name: string;
  memoryMiB: number;
  vcpus: number;
  wssMiB: number;
  dirtyMiBps: number;
  /** Write order of the guest's dirtier (default sweep). */
  order?: 'sweep' | 'random';
  kernel: string;
  initrd: string;
}

/** The QEMU command line of one incarnation of a guest. */
export function qemuArgs(g: GuestArgs, where: { qmp: string; mon: string; serial: string }, incoming: boolean): string[] {
  const args = [
    '-name', `${g.vmId},process=ferry-${g.vmId}`,
    // KVM is present but a Linux guest hangs at boot under it on these machines: TCG.
    '-accel', 'tcg',
    '-machine', 'q35',
    // 8 KiB more than asked, on purpose. With RAM a multiple of 256 KiB, QEMU 7.2 syncs the
    // migration dirty bitmap on a fast path that, under TCG, does not re-arm the vCPU's
    // dirty tracking: pages the guest kernel writes after a sync can be lost, and the guest
    // panicked on the destination in 5 of 14 multi-pass migrations here. An unaligned size
    // takes the per-page path, which does re-arm it (0 of 14, and every test since).
    '-m', `${g.memoryMiB * 1024 + 8}k`,
    '-smp', String(g.vcpus),
    '-kernel', g.kernel,
    '-initrd', g.initrd,
    '-append', `console=ttyS0 quiet panic=-1 ferry.name=${g.name} ferry.wss=${g.wssMiB} ferry.rate=${g.dirtyMiBps} ferry.order=${g.order ?? 'sweep'}`,
    '-display', 'none',
    '-serial', `file:${where.serial}`,
    // Two monitors: QMP serves one client per socket, and a migration holds the first.
    '-qmp', `unix:${where.qmp},server=on,wait=off`,
    '-qmp', `unix:${where.mon},server=on,wait=off`,
    '-nodefaults', '-no-user-config', '-no-reboot',
  ];
  // A destination takes its memory before the migration starts (as libvirt's immediate
  // allocation does). Fresh memory is not free here: this machine is itself a VM whose
  // hypervisor takes back memory freed for a few seconds, and faulting it in again cost
  // about 7 s per GiB (2 GiB: 15 s cold, 0.3 s warm). Faulted in by the destination
  // while it received, that cost landed inside the migration and came and went with
  // whatever had freed memory just before: a migration onto cold memory took 5.5-6.6 s
  // where the same one onto warm memory took 1.1-2.1 s. Taken up front it is the
  // destination's preparation: outside QEMU's total-time, inside the migration's time as
  // Ferry counts it (from its start, on every driver), where the
  // calibration's setup term stands for it and its spread widens the model's band.
  if (incoming) args.push('-incoming', 'defer', '-mem-prealloc');
  return args;
}

export const READY_LINE = 'ferry-dirty: ready';
