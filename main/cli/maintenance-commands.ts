// `ferry evacuate` and `ferry maintenance`: plan, preview and run host evacuations, and
// hold hosts in maintenance, through the contract like every other command.
import { FerryError } from '../../preload/contract';
import type { ConsolidationPlan, EvacuationPlan, EvacuationReport, EvacuationStatus, Schedule } from '../../preload/model';
import { evacuationCsv } from '../../common/history-export';
import type { Ctx } from './context';
import { formatMs } from '../../common/units';
import { table } from './format';

const json = (ctx: Ctx, value: unknown) => ctx.out(JSON.stringify(value, null, 2));

/** The plan as `--dry-run --json` prints it. */
export function planJson(p: EvacuationPlan) {
  return {
    hosts: p.hosts,
    steps: p.steps.map((s) => ({
      vm: s.vm, from: s.from, to: s.to, strategy: s.strategy, predicted: s.predicted, startMs: Math.round(s.startMs), order: s.order,
      ...(s.makesRoomFor ? { makesRoomFor: s.makesRoomFor } : {}), ...(s.after ? { after: s.after.vm } : {}),
    })),
    blockers: p.blockers.map((b) => ({ vm: b.vm, reason: b.reason })),
    etaMs: Math.round(p.etaMs),
    order: p.orderReason,
  };
}

function planText(p: EvacuationPlan): string {
  const lines = [`evacuate ${p.hosts.join(', ')}: ${p.steps.length} moves, ${p.blockers.length} blockers, done in ${formatMs(p.etaMs)} (predicted)`];
  if (p.steps.length) {
    lines.push(`  order: ${p.orderReason}`);
    lines.push(table(p.steps.map((s) => ({
      '#': s.order, vm: s.vm, from: s.from, to: s.to, strategy: s.strategy, start: formatMs(s.startMs),
      duration: formatMs(s.predicted.totalMs), downtime: formatMs(s.predicted.downtimeMs),
      note: s.makesRoomFor ? `makes room for ${s.makesRoomFor}` : s.after ? `after ${s.after.vm} has left` : '',
    })), ['#', 'vm', 'from', 'to', 'strategy', 'start', 'duration', 'downtime', ...(p.steps.some((s) => s.makesRoomFor) ? ['note'] : [])]));
  }
  for (const b of p.blockers) lines.push(`  BLOCKED ${b.vm} on ${b.host}: ${b.reason}`);
  return lines.join('\n');
}

/** Done of total, and the time still to go as predicted now (or how long it took). */
function progressLine(s: EvacuationStatus): string {
  const left = s.left.length ? `, ${s.left.length} left` : '';
  const time = s.state === 'paused'
    ? ', paused'
    : s.actualMs !== null
      ? `, took ${formatMs(s.actualMs)} (predicted ${formatMs(s.plan.etaMs)})`
      : s.remainingMs != null ? `, about ${formatMs(s.remainingMs)} to go (predicted now; the plan said ${formatMs(s.plan.etaMs)} in all)` : '';
  return `${s.done} of ${s.total} moved${left}${time}`;
}

function statusText(s: EvacuationStatus): string {
  const head = `${s.id}: ${s.hosts.join(', ')} ${s.state}; ${progressLine(s)}`;
  return [head, ...(s.actions ?? []).map((a) => `  ${a}`), ...s.left.map((b) => `  LEFT ${b.vm} on ${b.host}: ${b.reason}`)].join('\n');
}

export async function evacuate(ctx: Ctx): Promise<number> {
  const hosts = ctx.args;
  if (!hosts.length) throw new FerryError('bad-request', 'missing <host|rack>...; `ferry --help` shows the usage');
  if (ctx.flags.at !== undefined && !ctx.flags['dry-run']) {
    const at = String(ctx.flags.at);
    if (!Number.isFinite(Date.parse(at))) throw new FerryError('bad-request', `--at "${at}" is not a time; give an ISO time such as 2026-12-05T02:00:00Z`);
    const s = await ctx.api.maintenance.schedule({ hosts, at: new Date(Date.parse(at)).toISOString() });
    if (ctx.json) json(ctx, { ...s, preview: planJson(s.preview) });
    else {
      ctx.out(`${s.id}: evacuation of ${s.preview.hosts.join(', ')} set for ${s.at}`);
      ctx.out(planText(s.preview));
      ctx.out('The Ferry console (desktop app or ferry serve) runs it then, planning again from the inventory of that moment; `ferry schedules` lists it.');
    }
    return 0;
  }
  if (ctx.flags['dry-run']) {
    const plan = await ctx.api.maintenance.plan({ hosts });
    if (ctx.json) json(ctx, planJson(plan));
    else ctx.out(planText(plan));
    return 0;
  }
  return runAndWait(ctx, () => ctx.api.maintenance.evacuate({ hosts }));
}

/** Starts a group of moves (an evacuation, or a return home), prints progress, waits for its end. */
async function runAndWait(ctx: Ctx, start: () => Promise<EvacuationStatus>): Promise<number> {
  let resolve!: (s: EvacuationStatus) => void;
  const ended = new Promise<EvacuationStatus>((r) => (resolve = r));
  let id: string | null = null;
  const early: EvacuationStatus[] = [];
  const off = ctx.api.on('maintenance:evacuation', (s) => {
    if (id === null) early.push(s);
    else if (s.id === id) {
      if (!ctx.json) process.stderr.write(`  ${progressLine(s)}\n`);
      if (!active(s)) resolve(s);
    }
  });
  // Ctrl-C cancels: the moves not started stay put, running ones finish; a second one leaves.
  let interrupts = 0;
  const onInt = () => {
    if (++interrupts > 1 || id === null) process.exit(130);
    process.stderr.write(`  cancelling ${id}: moves not started stay put, running ones finish (Ctrl-C again to stop waiting)\n`);
    ctx.api.maintenance.cancel({ id }).catch((e: Error) => process.stderr.write(`  cannot cancel: ${e.message}\n`));
  };
  process.on('SIGINT', onInt);
  try {
    const started = await start();
    id = started.id;
    if (!ctx.json) ctx.out(`${planText(started.plan)}\n${started.id} started; Ctrl-C cancels it (moves not started stay put, running ones finish)`);
    const final = !active(started) ? started : ([...early].reverse().find((s) => s.id === id && !active(s)) ?? (await ended));
    if (ctx.json) json(ctx, { ...final, plan: planJson(final.plan) });
    else ctx.out(statusText(final));
    return final.state === 'completed' ? 0 : 1;
  } finally {
    off();
    process.off('SIGINT', onInt);
  }
}

const active = (s: EvacuationStatus) => s.state === 'running' || s.state === 'paused';

function reportText(rep: EvacuationReport): string {
  const t = rep.totals;
  const took = t.actualMs !== null ? `took ${formatMs(t.actualMs)} against ${formatMs(t.predictedEtaMs)} predicted` : `running; ${formatMs(t.predictedEtaMs)} predicted`;
  const lines = [
    `${rep.status.id}: ${rep.status.hosts.join(', ')} ${rep.status.state}; ${t.moved} moved, ${t.stayed} stayed; ${took}; total pause ${formatMs(t.downtimeMs)} (predicted ${formatMs(t.predictedDowntimeMs)})`,
    table(rep.moves.map((m) => ({
      vm: m.vm, from: m.from, to: m.to, strategy: m.strategy, outcome: m.outcome,
      'pause pred': formatMs(m.predicted.downtimeMs), pause: m.downtimeMs === null ? '—' : formatMs(m.downtimeMs),
      'took pred': formatMs(m.predicted.totalMs), took: m.totalMs === null ? '—' : formatMs(m.totalMs),
    })), ['vm', 'from', 'to', 'strategy', 'outcome', 'pause pred', 'pause', 'took pred', 'took']),
  ];
  for (const m of rep.moves) if (m.reason) lines.push(`  ${m.vm}: ${m.reason}`);
  return lines.join('\n');
}

/** `ferry evacuations [report|pause|resume|cancel <id> [--abort-running]]`: list them, or act on a running one. */
export async function evacuations(ctx: Ctx): Promise<number> {
  const [sub, id] = ctx.args;
  if (sub === undefined) {
    const list = await ctx.api.maintenance.evacuations();
    if (ctx.json) json(ctx, list.map((s) => ({ ...s, plan: planJson(s.plan) })));
    else ctx.out(list.length ? list.map(statusText).join('\n') : 'no evacuations yet (ferry evacuate <host|rack> --dry-run shows a plan)');
    return 0;
  }
  if (sub === 'report') {
    if (!id) throw new FerryError('bad-request', 'missing <id>: ferry evacuations report <id> [--csv] (ferry evacuations lists them)');
    const rep = await ctx.api.maintenance.report({ id });
    if (ctx.flags.csv) process.stdout.write(evacuationCsv(rep));
    else if (ctx.json) json(ctx, { ...rep, status: { ...rep.status, plan: planJson(rep.status.plan) } });
    else ctx.out(reportText(rep));
    return 0;
  }
  if (sub !== 'pause' && sub !== 'resume' && sub !== 'cancel') throw new FerryError('bad-request', `unknown evacuations command "${sub}": report|pause|resume|cancel <id>, or nothing to list them`);
  if (!id) throw new FerryError('bad-request', `missing <id>: ferry evacuations ${sub} <id> (ferry evacuations lists them)`);
  if (ctx.flags['abort-running'] && sub !== 'cancel') throw new FerryError('bad-request', '--abort-running goes with cancel');
  const s = sub === 'cancel'
    ? await ctx.api.maintenance.cancel({ id, abortRunning: ctx.flags['abort-running'] === true })
    : await ctx.api.maintenance[sub]({ id });
  if (ctx.json) json(ctx, { ...s, plan: planJson(s.plan) });
  else ctx.out(statusText(s));
  return 0;
}

export async function maintenance(ctx: Ctx): Promise<number> {
  const sub = ctx.args[0];
  const host = ctx.args[1];
  if (sub !== 'enter' && sub !== 'leave') throw new FerryError('bad-request', 'usage: ferry maintenance enter|leave <host> [--bring-home [--dry-run]]');
  if (!host) throw new FerryError('bad-request', `missing <host>: ferry maintenance ${sub} <host>`);
  if (ctx.flags['bring-home']) {
    if (sub !== 'leave') throw new FerryError('bad-request', '--bring-home goes with leave: ferry maintenance leave <host> --bring-home');
    if (ctx.flags['dry-run']) {
      const plan = await ctx.api.maintenance.homePlan({ host });
      if (ctx.json) json(ctx, planJson(plan));
      else ctx.out(planText(plan).replace(/^evacuate /, 'bring home to '));
      return 0;
    }
    return runAndWait(ctx, () => ctx.api.maintenance.bringHome({ host }));
  }
  const h = await ctx.api.maintenance.set({ host, on: sub === 'enter' });
  if (ctx.json) json(ctx, h);
  else ctx.out(`${h.name} ${h.maintenance ? 'is in maintenance: it takes no new VMs' : 'left maintenance'}`);
  return 0;
}

function scheduleLine(s: Schedule): string {
  return `${s.id}  ${s.at}  ${s.state.padEnd(9)}  ${s.preview.hosts.join(', ')}: ${s.preview.steps.length} moves, ${formatMs(s.preview.etaMs)} predicted${s.evacuationId ? `  -> ${s.evacuationId}` : ''}${s.note ? `\n  ${s.note}` : ''}`;
}

/** `ferry schedules [cancel <id>]`: evacuations set for a time. */
export async function schedules(ctx: Ctx): Promise<number> {
  const [sub, id] = ctx.args;
  if (sub === 'cancel') {
    if (!id) throw new FerryError('bad-request', 'missing <id>: ferry schedules cancel <id>');
    const s = await ctx.api.maintenance.unschedule({ id });
    if (ctx.json) json(ctx, s);
    else ctx.out(scheduleLine(s));
    return 0;
  }
  if (sub) throw new FerryError('bad-request', `unknown schedules command "${sub}": cancel <id>, or nothing to list them`);
  const list = await ctx.api.maintenance.schedules();
  if (ctx.json) json(ctx, list.map((s) => ({ ...s, preview: planJson(s.preview) })));
  else ctx.out(list.length ? list.map(scheduleLine).join('\n') : 'no scheduled evacuations (ferry evacuate <host> --at <ISO time>)');
  return 0;
}

function consolidationText(p: ConsolidationPlan): string {
  const optimum = p.optimum !== null ? `, the exact optimum ${p.optimum}` : '';
  const lines = [
    `consolidate keeping ${Math.round(p.headroom * 100)} % of each host's memory free: frees ${p.freed.length} of ${p.hostsConsidered} hosts (the most any plan could free: ${p.bound}${optimum})`,
    `  ${p.steps.length} moves, total predicted downtime ${formatMs(p.totalDowntimeMs)}, done in ${formatMs(p.etaMs)} (predicted); saves ${(p.wattsSaved / 1000).toFixed(1)} kW`,
    `  watts: ${p.wattsNote}`,
    `  ${p.optimumNote}; planned in ${formatMs(p.planMs)}`,
  ];
  if (p.freed.length) {
    lines.push(table(p.freed.map((f) => ({ host: f.host, cluster: f.cluster, vms: f.vms, watts: f.watts })), ['host', 'cluster', 'vms', 'watts']));
  }
  return lines.join('\n');
}

/** `ferry consolidate --dry-run`: the what-if; without --dry-run it runs as one evacuation and waits. */
export async function consolidate(ctx: Ctx): Promise<number> {
  if (ctx.args.length) throw new FerryError('bad-request', `ferry consolidate takes no hosts (it looks at every cluster); unexpected "${ctx.args[0]}"`);
  const req: { headroom?: number; wattsPerHost?: number } = {};
  if (ctx.flags.headroom !== undefined) {
    const pct = Number(String(ctx.flags.headroom).replace(/%$/, ''));
    if (!Number.isFinite(pct) || pct < 0 || pct > 50) throw new FerryError('bad-request', `--headroom must be a percentage from 0 to 50, not "${String(ctx.flags.headroom)}"`);
    req.headroom = pct / 100;
  }
  if (ctx.flags['watts-per-host'] !== undefined) {
    const w = Number(ctx.flags['watts-per-host']);
    if (!Number.isFinite(w) || w < 1 || w > 20_000) throw new FerryError('bad-request', `--watts-per-host must be a number of watts from 1 to 20000, not "${String(ctx.flags['watts-per-host'])}"`);
    req.wattsPerHost = w;
  }
  if (ctx.flags['dry-run']) {
    const plan = await ctx.api.maintenance.consolidate(req);
    if (ctx.json) json(ctx, { ...plan, steps: planJson({ ...emptyPlan, steps: plan.steps }).steps });
    else ctx.out(consolidationText(plan));
    return 0;
  }
  return runAndWait(ctx, () => ctx.api.maintenance.consolidateApply(req));
}

const emptyPlan: EvacuationPlan = { hosts: [], hostIds: [], steps: [], blockers: [], etaMs: 0, orderReason: '', headroom: 0 };
