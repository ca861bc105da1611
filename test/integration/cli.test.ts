// The `ferry` command line, run as a user runs it: the built bin, a temp data dir.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDataDir } from '../e2e/harness';
import { formatMs, formatRate, linkName } from '../../common/units';

describe('ferry CLI', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = tempDataDir('ferry-cli-');
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const ferry = (...args: string[]) => runCli(args, { dataDir });

  it('prints the seeded inventory as JSON arrays', async () => {
    const hosts = await ferry('hosts', '--json');
    expect(hosts.code).toBe(0);
    const h = JSON.parse(hosts.stdout) as Record<string, unknown>[];
    expect(h).toHaveLength(20);
    for (const k of ['id', 'name', 'cluster', 'driver', 'cores', 'memoryMiB', 'nicMiBps', 'maintenance']) expect(h[0]).toHaveProperty(k);
    const vms = await ferry('vms', '--json');
    const v = JSON.parse(vms.stdout) as Record<string, unknown>[];
    expect(v).toHaveLength(120);
    for (const k of ['id', 'name', 'host', 'memoryMiB', 'vcpus', 'state']) expect(v[0]).toHaveProperty(k);
    expect(new Set(h.map((x) => x.cluster)).size).toBeGreaterThanOrEqual(2);
  });

  it('fails with one line on stderr and a non-zero exit', async () => {
    const unknown = await ferry('frobnicate');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await ferry('predict', 'no-such-vm', '--to', 'ams-h01', '--json');
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/no-such-vm/);
    const later = await ferry('evacuate', 'ams-h01', '--at', '2030-01-01T00:00:00Z');
    expect(later.code).toBe(2);
    expect(later.stderr).toBe('ferry: a schedule can be set at most a year ahead\n');
    const bad = await ferry('predict', 'web-001', '--to', 'ams-h02', '--downtime-limit', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('ferry: --downtime-limit must be a whole number of ms from 1 to 60000, not "0"');
  });

  it('evacuate --dry-run --json prints the plan: steps on a timeline, blockers, ETA', async () => {
    const r = await ferry('evacuate', 'ams-h01', '--dry-run', '--json');
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { hosts: string[]; steps: { vm: string; from: string; to: string; strategy: string; predicted: { downtimeMs: number; totalMs: number }; startMs: number; order: number }[]; blockers: { vm: string; reason: string }[]; etaMs: number };
    expect(plan.hosts).toEqual(['ams-h01']);
    expect(plan.steps.length).toBeGreaterThan(0);
    expect(plan.steps.every((s) => s.from === 'ams-h01' && s.to !== 'ams-h01' && s.predicted.totalMs > 0)).toBe(true);
    expect(plan.steps.map((s) => s.order)).toEqual(plan.steps.map((_, i) => i + 1));
    expect(Math.max(...plan.steps.map((s) => s.startMs + s.predicted.totalMs))).toBeLessThanOrEqual(plan.etaMs + 1);
    // Nothing moved: a dry run changes nothing.
    const vms = JSON.parse((await ferry('vms', '--json')).stdout) as { host: string }[];
    expect(vms.filter((v) => v.host === 'ams-h01').length).toBe(plan.steps.length + plan.blockers.length);
  });

  it('evacuate --at sets a schedule that ferry schedules lists and cancels; a past time is refused', async () => {
    const at = new Date(Date.now() + 3 * 3600_000).toISOString();
    const r = await ferry('evacuate', 'ams-h02', '--at', at, '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { id: string; state: string; at: string; preview: { hosts: string[]; steps: unknown[] } };
    expect(s).toMatchObject({ state: 'pending', at, preview: { hosts: ['ams-h02'] } });
    const list = JSON.parse((await ferry('schedules', '--json')).stdout) as { id: string; state: string }[];
    expect(list.find((x) => x.id === s.id)?.state).toBe('pending');
    const text = await ferry('schedules');
    expect(text.stdout).toContain(`${s.id}  ${at}  pending`);
    expect(JSON.parse((await ferry('schedules', 'cancel', s.id, '--json')).stdout).state).toBe('cancelled');
    const past = await ferry('evacuate', 'ams-h02', '--at', '2020-01-01T00:00:00Z');
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/^ferry: 2020-01-01T00:00:00.000Z is in the past; to evacuate now, leave out the time\n$/);
  });

  it('predicts, migrates in virtual time, and the placement and record persist', async () => {
    const vms = JSON.parse((await ferry('vms', '--json')).stdout) as { id: string; host: string; workload: { dirtyMiBps: number } }[];
    const hosts = JSON.parse((await ferry('hosts', '--json')).stdout) as { id: string }[];
    const vm = vms.find((x) => x.id.startsWith('web-'))!;
    const to = hosts.find((x) => x.id !== vm.host)!.id;

    const pred = await ferry('predict', vm.id, '--to', to, '--json');
    expect(pred.code).toBe(0);
    const p = JSON.parse(pred.stdout);
    expect(p).toMatchObject({ converges: expect.any(Boolean), downtimeMs: expect.any(Number), totalMs: expect.any(Number) });
    expect(p.auto.strategy).toMatch(/precopy|postcopy|hybrid|stop-and-copy/);
    expect(p.auto.reason.length).toBeGreaterThan(10);

    const mig = await ferry('migrate', vm.id, '--to', to, '--json', '--speed', 'virtual');
    expect(mig.code, mig.stderr).toBe(0);
    const rec = JSON.parse(mig.stdout);
    expect(rec).toMatchObject({ vm: vm.id, from: vm.host, to, outcome: 'completed' });
    for (const k of ['id', 'strategy', 'reason', 'downtimeMs', 'totalMs', 'bytes', 'rounds']) expect(rec).toHaveProperty(k);
    expect(rec.predicted).toMatchObject({ converges: expect.any(Boolean), downtimeMs: expect.any(Number), totalMs: expect.any(Number) });
    expect(rec.bytes).toBeGreaterThan(0);

    const after = JSON.parse((await ferry('vms', '--json')).stdout) as { id: string; host: string }[];
    expect(after.find((x) => x.id === vm.id)!.host).toBe(to);

    const hist = JSON.parse((await ferry('history', '--json')).stdout) as { id: string }[];
    expect(hist.map((r) => r.id)).toContain(rec.id);
    const rep = JSON.parse((await ferry('report', rec.id, '--json')).stdout);
    expect(rep.id).toBe(rec.id);
    expect(Array.isArray(rep.rounds)).toBe(true);
    // From the first copy to the end: the chart starts with the whole VM left and ends at zero.
    expect(rep.rounds.length).toBeGreaterThanOrEqual(2);
    expect(rep.rounds[0].remainingBytes).toBeGreaterThan(rep.rounds.at(-1).remainingBytes);
    expect(rep.rounds.at(-1)).toMatchObject({ phase: 'done', remainingBytes: 0, transferredBytes: rec.bytes, t: rec.totalMs });

    const pdf = path.join(dataDir, 'report.pdf');
    const printed = await ferry('report', rec.id, '--pdf', pdf);
    expect(printed.code, printed.stderr).toBe(0);
    const head = fs.readFileSync(pdf).subarray(0, 5).toString();
    expect(head).toBe('%PDF-');
    expect(fs.statSync(pdf).size).toBeGreaterThan(10_000);
  });

  it('refuses a prediction to a host that cannot take the VM, in the words migrate refuses it with, and claims no pick', async () => {
    const vms = JSON.parse((await ferry('vms', '--json')).stdout) as { id: string; host: string }[];
    const vm = vms[0]!;
    const pred = await ferry('predict', vm.id, '--to', vm.host);
    expect(pred.code).toBe(1);
    expect(pred.stdout).not.toMatch(/auto picks/);
    expect(pred.stderr).toBe(`ferry: ${vm.id} cannot move to ${vm.host}: ${vm.id} already runs on ${vm.host}\n`);
    const mig = await ferry('migrate', vm.id, '--to', vm.host, '--speed', 'virtual');
    expect(mig.code).toBe(1);
    expect(mig.stderr).toBe(pred.stderr);
    const asJson = await ferry('predict', vm.id, '--to', vm.host, '--json');
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout).fit).toMatchObject({ ok: false, reason: `${vm.id} already runs on ${vm.host}` });
  });

  it('names NICs by line rate as the console does, and prints a report with its per-round samples', async () => {
    const hosts = JSON.parse((await ferry('hosts', '--json')).stdout) as { id: string; nicMiBps: number }[];
    const text = (await ferry('hosts')).stdout;
    expect(text).not.toMatch(/MiB\/s/);
    for (const h of hosts) expect(text).toMatch(new RegExp(`^${h.id} .* ${linkName(h.nicMiBps)} `, 'm'));
    // Dirty rates as the console writes them (formatRate), not the raw figure.
    const vms = JSON.parse((await ferry('vms', '--json')).stdout) as { id: string; workload: { dirtyMiBps: number } }[];
    const vmText = (await ferry('vms')).stdout;
    for (const v of vms) expect(vmText).toMatch(new RegExp(`^${v.id} .* ${formatRate(v.workload.dirtyMiBps).replace('.', '\\.')} `, 'm'));
    const [last] = JSON.parse((await ferry('history', '--json', '--limit', '1')).stdout) as { id: string }[];
    const rep = JSON.parse((await ferry('report', last!.id, '--json')).stdout) as { rounds: { round: number; t: number }[] };
    const out = (await ferry('report', last!.id)).stdout.split('\n');
    const head = out.findIndex((l) => /^\s+ROUND\s+PHASE\s+TIME\s+SENT\s+REMAINING\s+DIRTY RATE\s+THROUGHPUT$/.test(l));
    expect(head).toBeGreaterThan(0);
    // After the events, one line per sample.
    expect(out.findIndex((l) => /completed in/.test(l))).toBeLessThan(head);
    const lines = out.slice(head + 1).filter((l) => l.trim());
    expect(lines).toHaveLength(rep.rounds.length);
    expect(lines[0]).toMatch(new RegExp(`^\\s+${rep.rounds[0]!.round}\\s+precopy\\s+${formatMs(rep.rounds[0]!.t)}\\s`));
  });

  it('exports the simulated datacenter and loads it back; rejects a bad file at its line', async () => {
    const out = path.join(dataDir, 'dc.json');
    expect((await ferry('sim', 'export', '--out', out)).code).toBe(0);
    const dc = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(dc.hosts).toHaveLength(20);
    dc.vms[3].vcpus = 'four';
    const bad = path.join(dataDir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify(dc, null, 2));
    const line = fs.readFileSync(bad, 'utf8').split('\n').findIndex((l) => l.includes('"four"')) + 1;
    const res = await ferry('sim', 'load', bad);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`line ${line}: vms[3].vcpus`);
    // Nothing was lost: the old datacenter is still there.
    expect(JSON.parse((await ferry('vms', '--json')).stdout)).toHaveLength(120);
    dc.vms = dc.vms.slice(0, 10);
    dc.vms[3].vcpus = 4;
    fs.writeFileSync(bad, JSON.stringify(dc));
    expect((await ferry('sim', 'load', bad)).code).toBe(0);
    expect(JSON.parse((await ferry('vms', '--json')).stdout)).toHaveLength(10);
  });
});
