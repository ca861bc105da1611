// `ferry lab ...`: the QEMU lab from the command line. Each function returns a value for
// --json and takes `log` for progress lines (stderr under --json, stdout otherwise).
//
//   ferry lab up [--hosts 3] [--vms 6] [--vm name:mem=512,wss=128,rate=50[,vcpus=1][,host=lab-h2]]... [--file lab.json]
//   ferry lab add-vm name:mem=512,wss=64,rate=20[,host=lab-h1]
//   ferry lab status
//   ferry lab down
import fs from 'node:fs';
import { parseBoundedJson } from '../json-depth';
import { defaultVmSpecs, labFileSchema, parseVmSpec, type VmSpec } from '../qemu/guest';
import { labAddVm as addVm, labDown as down, labStatus as status, labUp as up, type LabStatus } from '../qemu/lab';

export interface LabUpOptions {
  dataDir: string;
  /** --hosts (default 3, or the lab file's). */
  hosts?: number;
  /** --vms: how many guests with the default workloads when no --vm or file names them (default 6). */
  vms?: number;
  /** --vm, repeatable: "name:mem=512,wss=128,rate=50". */
  vmSpecs?: string[];
  /** --file: {"hosts": 3, "vms": [{"name": "web", "mem": 512, "wss": 128, "rate": 50}]} */
  file?: string;
}

function readLabFile(file: string): { hosts: number; vms: VmSpec[] } {
  let raw: unknown;
  try {
    raw = parseBoundedJson(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`lab file ${file}: ${(e as Error).message}`);
  }
  const res = labFileSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new Error(`lab file ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return res.data;
}

/** What `ferry lab up` will start: the file, then --vm specs, else --vms default guests. */
function count(flag: string, v: number | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${flag} must be a whole number from ${min} to ${max}`);
  return v;
}

export function labPlan(opts: LabUpOptions): { hosts: number; vms: VmSpec[] } {
  count('hosts', opts.hosts, 2, 16);
  count('vms', opts.vms, 0, 64);
  const fromFile = opts.file ? readLabFile(opts.file) : null;
  const specs = [...(fromFile?.vms ?? []), ...(opts.vmSpecs ?? []).map(parseVmSpec)];
  const hosts = opts.hosts ?? fromFile?.hosts ?? 3;
  const vms = specs.length > 0 ? specs : defaultVmSpecs(opts.vms ?? 6);
  if (opts.vms !== undefined && specs.length > 0 && opts.vms > specs.length) {
    vms.push(...defaultVmSpecs(opts.vms - specs.length, new Set(specs.map((s) => s.name))));
  }
  return { hosts, vms };
}

export async function labUp(opts: LabUpOptions, log: (line: string) => void): Promise<LabStatus> {
  const plan = labPlan(opts);
  const t0 = Date.now();
  await up({ dataDir: opts.dataDir, hosts: plan.hosts, vms: plan.vms, log });
  log(`lab: up in ${((Date.now() - t0) / 1000).toFixed(1)} s; \`ferry hosts\` lists lab-h1..lab-h${plan.hosts}, \`ferry lab down\` stops it`);
  return status(opts.dataDir);
}

export async function labDown(dataDir: string, log: (line: string) => void = () => {}): Promise<{ stopped: { what: string; pid: number }[] }> {
  const r = await down(dataDir);
  log(r.stopped.length ? `lab: stopped ${r.stopped.map((s) => `${s.what} (pid ${s.pid})`).join(', ')}` : 'lab: nothing was running');
  return r;
}

export async function labAddVm(dataDir: string, spec: string, log: (line: string) => void = () => {}): Promise<LabStatus> {
  const vm = await addVm(dataDir, parseVmSpec(spec));
  log(`lab: ${vm.name} ready on ${vm.host} (pid ${vm.proc.pid})`);
  return status(dataDir);
}

export function labStatus(dataDir: string): LabStatus {
  return status(dataDir);
}

/** The human form of a LabStatus. */
export function labStatusText(s: LabStatus): string {
  if (s.hosts.length === 0) return 'no lab (ferry lab up starts one)';
  const lines = [`lab in ${s.dir}: ${s.up ? 'up' : 'down (no process running)'}`];
  for (const h of s.hosts) lines.push(`  ${h.id}  ports ${h.ports}  ${h.vms.length ? h.vms.join(', ') : '(no VMs)'}`);
  for (const v of s.vms) {
    lines.push(`  ${v.name.padEnd(12)} on ${v.host}  pid ${v.pid} ${v.running ? 'running' : 'NOT RUNNING'}  ${v.memoryMiB} MiB, working set ${v.wssMiB} MiB at ${v.dirtyMiBps} MiB/s`);
  }
  for (const m of s.migrations) lines.push(`  migrating ${m.vm}: ${m.from} -> ${m.to} (destination pid ${m.destPid}${m.destRunning ? '' : ', gone'})`);
  return lines.join('\n');
}
