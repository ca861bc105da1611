// `ferry evacuate` and `ferry maintenance`: plan, preview and run host evacuations, and
// hold hosts in maintenance, through the contract like every other command.
import { FerryError } from '../../preload/contract';
import type { EvacuationPlan, EvacuationStatus } from '../../preload/model';
import type { Ctx } from './context';
import { formatMs } from '../../common/units';
import { table } from './format';

const json = (ctx: Ctx, value: unknown) => ctx.out(JSON.stringify(value, null, 2));

/** The plan as `--dry-run --json` prints it. */
export function planJson(p: EvacuationPlan) {
  return {
    hosts: p.hosts,
    steps: p.steps.map((s) => ({ vm: s.vm, from: s.from, to: s.to, strategy: s.strategy, predicted: s.predicted, startMs: Math.round(s.startMs), order: s.order })),
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
    })), ['#', 'vm', 'from', 'to', 'strategy', 'start', 'duration', 'downtime']));
  }
  for (const b of p.blockers) lines.push(`  BLOCKED ${b.vm} on ${b.host}: ${b.reason}`);
  return lines.join('\n');
}

function statusText(s: EvacuationStatus): string {
  const head = `${s.id}: ${s.hosts.join(', ')} ${s.state}; ${s.done} of ${s.total} moved`;
  return [head, ...s.left.map((b) => `  LEFT ${b.vm} on ${b.host}: ${b.reason}`)].join('\n');
}

export async function evacuate(ctx: Ctx): Promise<number> {
  const hosts = ctx.args;
  if (!hosts.length) throw new FerryError('bad-request', 'missing <host|rack>...; `ferry --help` shows the usage');
  if (ctx.flags.at !== undefined) throw new FerryError('not-implemented', 'scheduled evacuations (--at) are not built yet: run it now, or --dry-run to preview');
  if (ctx.flags['dry-run']) {
    const plan = await ctx.api.maintenance.plan({ hosts });
    if (ctx.json) json(ctx, planJson(plan));
    else ctx.out(planText(plan));
    return 0;
  }
  let resolve!: (s: EvacuationStatus) => void;
  const ended = new Promise<EvacuationStatus>((r) => (resolve = r));
  let id: string | null = null;
  const early: EvacuationStatus[] = [];
  const off = ctx.api.on('maintenance:evacuation', (s) => {
    if (id === null) early.push(s);
    else if (s.id === id) {
      if (!ctx.json) process.stderr.write(`  ${s.done} of ${s.total} moved${s.left.length ? `, ${s.left.length} left` : ''}\n`);
      if (s.state !== 'running') resolve(s);
    }
  });
  try {
    const started = await ctx.api.maintenance.evacuate({ hosts });
    id = started.id;
    if (!ctx.json) ctx.out(planText(started.plan));
    const final = started.state !== 'running' ? started : ([...early].reverse().find((s) => s.id === id && s.state !== 'running') ?? (await ended));
    if (ctx.json) json(ctx, { ...final, plan: planJson(final.plan) });
    else ctx.out(statusText(final));
    return final.state === 'completed' ? 0 : 1;
  } finally {
    off();
  }
}

export async function maintenance(ctx: Ctx): Promise<number> {
  const sub = ctx.args[0];
  const host = ctx.args[1];
  if (sub !== 'enter' && sub !== 'leave') throw new FerryError('bad-request', 'usage: ferry maintenance enter|leave <host>');
  if (!host) throw new FerryError('bad-request', `missing <host>: ferry maintenance ${sub} <host>`);
  const h = await ctx.api.maintenance.set({ host, on: sub === 'enter' });
  if (ctx.json) json(ctx, h);
  else ctx.out(`${h.name} ${h.maintenance ? 'is in maintenance: it takes no new VMs' : 'left maintenance'}`);
  return 0;
}
