// `ferry settings [set <key>=<value>...]`: the defaults new work gets (policy, concurrency
// limits, maintenance), shown or changed through the contract like every other command.
import { FerryError } from '../../preload/contract';
import type { Settings, SettingsPatch } from '../../preload/model';
import type { Ctx } from './context';

/** `policy.downtimeLimitMs=500` -> { policy: { downtimeLimitMs: 500 } }; numbers, true/false and null are read as such. */
export function parseSettingArgs(args: readonly string[]): SettingsPatch {
  if (!args.length) throw new FerryError('bad-request', 'nothing to set: ferry settings set <key>=<value>..., for example limits.perHostOut=4 policy.downtimeLimitMs=500');
  const patch: Record<string, unknown> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new FerryError('bad-request', `"${a}" is not <key>=<value> (ferry settings lists the keys)`);
    const path = a.slice(0, eq).split('.');
    const text = a.slice(eq + 1);
    const value = text === 'null' ? null : text === 'true' ? true : text === 'false' ? false : text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    if (path.length > 2 || path.some((p) => !/^[A-Za-z]+$/.test(p))) throw new FerryError('bad-request', `unknown setting "${a.slice(0, eq)}" (ferry settings lists the keys)`);
    if (path.length === 1) patch[path[0]!] = value;
    else patch[path[0]!] = { ...((patch[path[0]!] as object | undefined) ?? {}), [path[1]!]: value };
  }
  return patch as SettingsPatch;
}

/** One `key = value` line per setting, in the order they are defined. */
export function settingLines(s: Settings): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (v && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) out.push(`${k}.${k2} = ${JSON.stringify(v2)}`);
    else out.push(`${k} = ${JSON.stringify(v)}`);
  }
  return out;
}

export async function settings(ctx: Ctx): Promise<number> {
  const [sub, ...rest] = ctx.args;
  let s: Settings;
  if (sub === undefined) s = await ctx.api.settings.get();
  else if (sub === 'set') s = await ctx.api.settings.set(parseSettingArgs(rest));
  else throw new FerryError('bad-request', `unknown settings command "${sub}": set <key>=<value>..., or nothing to list them`);
  if (ctx.json) ctx.out(JSON.stringify(s, null, 2));
  else ctx.out(settingLines(s).join('\n'));
  return 0;
}
