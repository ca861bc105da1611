// One function per `ferry` command. Each uses the contract API (ctx.api), never SQL or
// the engine directly, except where a command is about the process itself (serve, sim).
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { FerryError } from '../../preload/contract';
import type { HostConnection, HostTestResult, MigrationRecord, PolicyOverrides, RoundSample, StrategyChoice } from '../../preload/model';
import { parsePolicyField, strategyChoice } from '../../preload/model';
import { SIM_LIMITS, parseSimDatacenter } from '../sim/format';
import { Store } from '../store/store';
import { serve } from '../server/serve';
import { formatBytes, formatMiB, formatMs, formatRate, formatRounds, linkName, wentPostcopy } from '../../common/units';
import { progressLine, table } from './format';
import { localApp, readFileOrFail, type Ctx } from './context';
import { fetchAllRows, toCsv } from '../../common/history-export';
import { reportPdf, writePdf } from './pdf';
import path from 'node:path';
import { consolidate, evacuate, evacuations, maintenance, schedules } from './maintenance-commands';
import { settings } from './settings-commands';
import { labAddVm, labDown, labStatus, labStatusText, labUp } from './lab-commands';
import { consoleStarted, consoleStopped, lastPort } from './console-address';

type Command = (ctx: Ctx) => Promise<number>;

/** Opens the system browser where there is one; silently does nothing on a headless machine. */
export function openBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    /* no browser here: the printed URL is enough */
  }
}

function arg(ctx: Ctx, i: number, what: string): string {
  const v = ctx.args[i];
  if (!v) throw new FerryError('bad-request', `missing ${what}; \`ferry --help\` shows the usage`);
  return v;
}

function num(ctx: Ctx, flag: string): number | undefined {
  const v = ctx.flags[flag];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw new FerryError('bad-request', `--${flag} must be a positive number, not "${String(v)}"`);
  return n;
}

/** The policy flags, checked against the policy's one table of bounds. */
function policyFlags(ctx: Ctx): PolicyOverrides {
  const p: PolicyOverrides = {};
  const flags = [['downtime-limit', 'downtimeLimitMs'], ['bandwidth', 'bandwidthMiBps'], ['timeout', 'timeoutS']] as const;
  for (const [flag, field] of flags) {
    const v = ctx.flags[flag];
    if (v === undefined) continue;
    const r = parsePolicyField(field, String(v), `--${flag}`);
    if ('error' in r) throw new FerryError('bad-request', r.error);
    p[field] = r.value;
  }
  return p;
}

function strategyFlag(ctx: Ctx): StrategyChoice {
  const s = strategyChoice.safeParse(ctx.flags.strategy ?? 'auto');
  if (!s.success) throw new FerryError('bad-request', `--strategy must be one of ${strategyChoice.options.join(', ')}`);
  return s.data;
}

function toFlag(ctx: Ctx): string {
  const to = ctx.flags.to;
  if (typeof to !== 'string' || !to) throw new FerryError('bad-request', 'missing --to <host>');
  return to;
}

const json = (ctx: Ctx, value: unknown) => ctx.out(JSON.stringify(value, null, 2));

function recordLine(r: MigrationRecord): string {
  const head = `${r.id}  ${r.vm}: ${r.from} -> ${r.to}  ${r.strategy}  ${r.outcome}`;
  const figures = `downtime ${formatMs(r.downtimeMs)}, total ${formatMs(r.totalMs)}, ${formatBytes(r.bytes)}, ${formatRounds(r.rounds, wentPostcopy(r))}`;
  return `${head}\n  ${figures}\n  ${r.reason}`;
}

/** A report's per-round samples, one line each (pre-copy rounds, then post-copy samples). */
function roundsTable(rounds: RoundSample[]): string {
  if (!rounds.length) return '  no samples: it ended before the first pass';
  // Throughput: what was sent since the previous sample over the time since it.
  const rows = rounds.map((s, i) => {
    const prev = rounds[i - 1] ?? { t: 0, transferredBytes: 0 };
    const dt = (s.t - prev.t) / 1000;
    return {
      round: s.round, phase: s.phase, time: formatMs(s.t), sent: formatBytes(s.transferredBytes), remaining: formatBytes(s.remainingBytes),
      'dirty rate': formatRate(s.dirtyMiBps), throughput: dt > 0 ? formatRate((s.transferredBytes - prev.transferredBytes) / 1048576 / dt) : '—',
    };
  });
  return table(rows, ['round', 'phase', 'time', 'sent', 'remaining', 'dirty rate', 'throughput']).replace(/^/gm, '  ');
}

function hostTestText(t: HostTestResult): string {
  if (!t.reachable) {
    const key = t.hostKey ? `\n  host key: ${t.hostKey.type} ${t.hostKey.fingerprint}` : '';
    return `${t.uri}: not reachable\n  ${t.error}${key}`;
  }
  return [
    `${t.uri}: reachable (${t.hostname})`,
    `  auth: ${t.auth}`,
    `  libvirt ${t.libvirtVersion}, QEMU ${t.hypervisorVersion}`,
    `  ${t.cpus} CPUs, ${formatMiB(t.memoryMiB ?? 0)} memory, ${t.runningDomains} running guests`,
  ].join('\n');
}

function connectionLine(c: HostConnection): string {
  const state = c.state === 'up' ? `up (${c.versions})` : c.state === 'connecting' ? 'connecting' : `unreachable: ${c.error}`;
  return `${c.name}  ${c.uri}  ${state}`;
}

/** `ferry hosts add|test|remove|connections`: hosts added by URI (libvirt). */
async function hostsAdmin(ctx: Ctx, sub: 'add' | 'test' | 'remove' | 'connections'): Promise<number> {
  const accept = typeof ctx.flags['accept-host-key'] === 'string' ? (ctx.flags['accept-host-key'] as string) : undefined;
  if (sub === 'connections') {
    const list = await ctx.api.hosts.connections();
    if (ctx.json) return json(ctx, list), 0;
    ctx.out(list.length ? list.map(connectionLine).join('\n') : 'no hosts added by URI (ferry hosts add qemu+ssh://user@host/system)');
    return 0;
  }
  if (sub === 'test') {
    const t = await ctx.api.hosts.test({ uri: arg(ctx, 1, '<uri>'), acceptHostKey: accept });
    if (ctx.json) json(ctx, t);
    else ctx.out(hostTestText(t));
    return t.reachable ? 0 : 1;
  }
  if (sub === 'remove') {
    const r = await ctx.api.hosts.remove({ name: arg(ctx, 1, '<name>') });
    if (ctx.json) json(ctx, r);
    else ctx.out(`removed ${r.removed}`);
    return 0;
  }
  const nic = num(ctx, 'nic-mibps');
  const c = await ctx.api.hosts.add({
    uri: arg(ctx, 1, '<uri>'), name: ctx.flags.name as string | undefined, peerUri: ctx.flags['peer-uri'] as string | undefined,
    rack: ctx.flags.rack as string | undefined, nicMiBps: nic, acceptHostKey: accept,
  });
  if (ctx.json) json(ctx, c);
  else ctx.out(`added ${connectionLine(c)}`);
  return 0;
}

export const commands: Record<string, Command> = {
  async lab(ctx) {
    const sub = arg(ctx, 0, 'lab up|down|add-vm|status');
    const log = (l: string) => (ctx.json ? process.stderr.write(l + '\n') : ctx.out(l));
    const dataDir = ctx.dataDir;
    const int = (f: string) => num(ctx, f);
    if (sub === 'up') {
      const st = await labUp({ dataDir, hosts: int('hosts'), vms: int('vms'), vmSpecs: (ctx.flags.vm as string[] | undefined) ?? [], file: ctx.flags.file as string | undefined }, log);
      return ctx.json ? (json(ctx, st), 0) : (ctx.out(labStatusText(st)), 0);
    }
    if (sub === 'down') {
      const r = await labDown(dataDir, ctx.json ? () => {} : log);
      return ctx.json ? (json(ctx, r), 0) : 0;
    }
    if (sub === 'add-vm') {
      const st = await labAddVm(dataDir, arg(ctx, 1, '<name:mem=..,wss=..,rate=..>'), log);
      return ctx.json ? (json(ctx, st), 0) : (ctx.out(labStatusText(st)), 0);
    }
    if (sub === 'status') {
      const st = labStatus(dataDir);
      return ctx.json ? (json(ctx, st), 0) : (ctx.out(labStatusText(st)), 0);
    }
    throw new FerryError('bad-request', `unknown lab command "${sub}": up, down, add-vm or status`);
  },
  async hosts(ctx) {
    const sub = ctx.args[0];
    if (sub === 'add' || sub === 'test' || sub === 'remove' || sub === 'connections') return hostsAdmin(ctx, sub);
    if (sub) throw new FerryError('bad-request', `unknown hosts command "${sub}": add, test, remove or connections (no argument lists the hosts)`);
    const inv = await ctx.api.inventory.get();
    if (ctx.json) return json(ctx, inv.hosts), 0;
    const vmsOn = new Map<string, number>();
    for (const v of inv.vms) vmsOn.set(v.host, (vmsOn.get(v.host) ?? 0) + 1);
    ctx.out(table(inv.hosts.map((h) => ({
      id: h.id, cluster: h.cluster, rack: h.rack, driver: h.driver, cores: h.cores,
      memory: `${formatMiB(h.usage.memUsedMiB)} / ${formatMiB(h.memoryMiB)}`, nic: linkName(h.nicMiBps),
      vms: vmsOn.get(h.id) ?? 0, state: h.maintenance ? 'maintenance' : h.state,
    })), ['id', 'cluster', 'rack', 'driver', 'cores', 'memory', 'nic', 'vms', 'state']));
    return 0;
  },

  async vms(ctx) {
    const inv = await ctx.api.inventory.get();
    if (ctx.json) return json(ctx, inv.vms), 0;
    ctx.out(table(inv.vms.map((v) => ({
      id: v.id, host: v.host, memory: formatMiB(v.memoryMiB), vcpus: v.vcpus, state: v.state,
      'dirty rate': formatRate(v.workload.dirtyMiBps), 'working set': formatMiB(v.workload.wssMiB),
    })), ['id', 'host', 'memory', 'vcpus', 'state', 'dirty rate', 'working set']));
    return 0;
  },

  async predict(ctx) {
    const vm = arg(ctx, 0, '<vm>');
    const strategy = strategyFlag(ctx);
    const res = await ctx.api.migrations.predict({ vm, to: toFlag(ctx), strategy, policy: policyFlags(ctx) });
    // A destination that cannot take the VM: the refusal `ferry migrate` would give, and no pick.
    if (ctx.json) return json(ctx, { ...res.predicted, auto: res.auto, fit: res.fit, vm: res.vm, from: res.from, to: res.to }), res.fit.ok ? 0 : 1;
    if (!res.fit.ok) throw new FerryError('conflict', `${res.vm} cannot move to ${res.to}: ${res.fit.reason ?? 'the host has no room for it'}`);
    const p = res.predicted;
    ctx.out(`${res.vm}: ${res.from} -> ${res.to}`);
    ctx.out(`  auto picks ${res.auto.strategy}: ${res.auto.reason}`);
    ctx.out(`  ${p.strategy}: ${p.converges ? 'converges' : 'does NOT converge'}; downtime ${formatMs(p.downtimeMs)}, total ${formatMs(p.totalMs)}, ${formatBytes(p.bytes)}, ${p.rounds} rounds`);
    ctx.out(`  ${p.note}`);
    if (p.convergeOdds !== undefined && p.convergeOdds < 1) ctx.out(`  uncertain: pre-copy converges in ${Math.round(p.convergeOdds * 100)} % of the dirty rate's band`);
    if (p.range) ctx.out(`  likely ${formatMs(p.range.totalMs[0])} to ${formatMs(p.range.totalMs[1])}, pause ${formatMs(p.range.downtimeMs[0])} to ${formatMs(p.range.downtimeMs[1])}`);
    if (p.basis) ctx.out(`  stands on ${p.basis}`);
    return 0;
  },

  async migrate(ctx) {
    const vm = arg(ctx, 0, '<vm>');
    const ended = new Map<string, MigrationRecord>();
    const waiters = new Map<string, (r: MigrationRecord) => void>();
    const off = ctx.api.on('migrations:ended', (r) => {
      ended.set(r.id, r);
      waiters.get(r.id)?.(r);
    });
    let lastLine = 0;
    const offProgress = ctx.json
      ? () => {}
      : ctx.api.on('migrations:progress', (batch) => {
          const now = Date.now();
          if (now - lastLine < 1000) return;
          lastLine = now;
          for (const p of batch) process.stderr.write(`  ${progressLine(p)}\n`);
        });
    try {
      const [queued] = await ctx.api.migrations.start({ vms: [vm], to: toFlag(ctx), strategy: strategyFlag(ctx), policy: policyFlags(ctx) });
      const rec = ended.get(queued!.id) ?? (await new Promise<MigrationRecord>((resolve) => waiters.set(queued!.id, resolve)));
      if (ctx.json) json(ctx, rec);
      else ctx.out(recordLine(rec));
      return rec.outcome === 'completed' ? 0 : 1;
    } finally {
      off();
      offProgress();
    }
  },

  async history(ctx) {
    const limit = num(ctx, 'limit');
    const filter = {
      ...(typeof ctx.flags.since === 'string' ? { since: ctx.flags.since } : {}),
      ...(Array.isArray(ctx.flags.vm) && ctx.flags.vm[0] ? { vm: ctx.flags.vm[0] } : {}),
      ...(typeof ctx.flags.host === 'string' ? { host: ctx.flags.host } : {}),
      ...(typeof ctx.flags.outcome === 'string' ? { outcome: ctx.flags.outcome as 'completed' } : {}),
    };
    // Every matching row, as the console's Export CSV writes them (--limit caps it): the same bytes.
    if (ctx.flags.csv) return process.stdout.write(toCsv(await fetchAllRows((f) => ctx.api.history.list(f), filter, limit ?? 100_000))), 0;
    const page = await ctx.api.history.list({ ...filter, limit: limit ?? 100 });
    if (ctx.json) return json(ctx, page.rows), 0;
    ctx.out(table(page.rows.map((r) => ({
      id: r.id, when: r.queuedAt.replace('T', ' ').slice(0, 19), vm: r.vm, from: r.from, to: r.to,
      strategy: r.strategy, outcome: r.outcome, downtime: formatMs(r.downtimeMs), total: formatMs(r.totalMs), bytes: formatBytes(r.bytes),
    })), ['id', 'when', 'vm', 'from', 'to', 'strategy', 'outcome', 'downtime', 'total', 'bytes']));
    if (page.total > page.rows.length) ctx.out(`(${page.rows.length} of ${page.total}; --limit shows more)`);
    return 0;
  },

  async report(ctx) {
    const id = arg(ctx, 0, '<id>');
    if (typeof ctx.flags.pdf === 'string') {
      // Beside a console, the console prints it (history:pdf); alone, a short-lived server does.
      if (ctx.app) await reportPdf(ctx.app, id, ctx.flags.pdf, ctx.staticDir);
      else writePdf(ctx.flags.pdf, Buffer.from((await ctx.api.history.pdf({ id })).base64, 'base64'));
      if (ctx.json) json(ctx, { id, pdf: path.resolve(ctx.flags.pdf) });
      else ctx.out(`wrote ${ctx.flags.pdf}`);
      return 0;
    }
    const rep = await ctx.api.history.report({ id });
    if (ctx.json) return json(ctx, { ...rep.record, rounds: rep.rounds, roundCount: rep.record.rounds }), 0;
    ctx.out(recordLine(rep.record));
    const p = rep.record.predicted;
    ctx.out(`  predicted: ${p.converges ? 'converges' : 'does not converge'}, downtime ${formatMs(p.downtimeMs)}, total ${formatMs(p.totalMs)}, ${formatRounds(p.rounds, rep.record.strategy === 'postcopy')}`);
    for (const e of rep.record.events) ctx.out(`  ${formatMs(e.t).padStart(8)}  ${e.text}`);
    ctx.out('  rounds:');
    ctx.out(roundsTable(rep.rounds));
    return 0;
  },

  evacuate,
  maintenance,
  schedules,
  evacuations,
  consolidate,
  settings,

  async sim(ctx) {
    const sub = arg(ctx, 0, 'sim subcommand (load or export)');
    if (sub === 'load') {
      const file = arg(ctx, 1, '<file.json>');
      const { store } = localApp(ctx, 'ferry sim load');
      const dc = parseSimDatacenter(readFileOrFail(file, SIM_LIMITS.fileBytes), file);
      store.saveDatacenter(dc);
      store.audit('cli', 'sim-load', { file, hosts: dc.hosts.length, vms: dc.vms.length });
      if (ctx.json) json(ctx, { loaded: file, clusters: dc.clusters.length, hosts: dc.hosts.length, vms: dc.vms.length });
      else ctx.out(`loaded ${file}: ${dc.clusters.length} clusters, ${dc.hosts.length} hosts, ${dc.vms.length} VMs`);
      return 0;
    }
    if (sub === 'export') {
      // Beside a console, the store it writes every placement to (read only here).
      const store = ctx.app?.store ?? Store.open(ctx.dataDir);
      let text: string;
      try {
        text = JSON.stringify(store.loadDatacenter(), null, 2) + '\n';
      } finally {
        if (!ctx.app) store.close();
      }
      if (typeof ctx.flags.out === 'string') fs.writeFileSync(ctx.flags.out, text);
      else process.stdout.write(text);
      return 0;
    }
    throw new FerryError('bad-request', `unknown sim subcommand "${sub}" (load or export)`);
  },

  async serve(ctx) {
    const asked = ctx.flags.port === undefined ? null : Number(ctx.flags.port);
    if (asked !== null && (!Number.isInteger(asked) || asked < 0 || asked > 65535)) throw new FerryError('bad-request', `--port must be 0..65535`);
    // Without --port: the port this data directory's console had last time, if it is free.
    const remembered = asked === null ? lastPort(ctx.dataDir) : null;
    let served;
    try {
      served = await serve(localApp(ctx, 'ferry serve'), { port: asked ?? remembered ?? 0, staticDir: ctx.staticDir });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      if (remembered === null) throw new FerryError('conflict', `port ${asked} is in use: choose another with --port, or --port 0 for any free one`);
      process.stderr.write(`ferry: port ${remembered} (this console's last) is in use; taking another\n`);
      served = await serve(localApp(ctx, 'ferry serve'), { port: 0, staticDir: ctx.staticDir });
    }
    consoleStarted(ctx.dataDir, served.port, served.url);
    if (ctx.json) json(ctx, { url: served.url, port: served.port });
    else ctx.out(`Ferry console: ${served.url}\n(open it in a browser, or later with \`ferry open\`; Ctrl+C stops the server)`);
    if (ctx.flags.open) openBrowser(served.url);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    consoleStopped(ctx.dataDir, served.port);
    await served.close();
    return 0;
  },
};
