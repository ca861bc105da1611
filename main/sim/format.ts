// The simulated datacenter's file format: `ferry sim load <file.json>` reads it,
// `ferry sim export` writes it, and the embedded default is generated in it.
import { MAX_UNIT_PAGES } from './pages';
import { z } from 'zod';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../json-depth';

/** The largest datacenter Ferry loads (a file beyond this is refused, naming the cap). */
export const SIM_LIMITS = { fileBytes: 64 * 1024 * 1024, clusters: 1000, hosts: 5000, vms: 50_000 } as const;

const name = z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-"');

export const simHostSchema = z
  .object({
    id: name,
    name: z.string().min(1).max(100).optional(),
    cluster: name,
    rack: name,
    cores: z.number().int().min(1).max(4096),
    memoryMiB: z.number().int().min(256).max(64 * 1024 * 1024),
    nicMiBps: z.number().positive().max(1_000_000),
    maintenance: z.boolean().default(false),
  })
  .strict();

export const simVmSchema = z
  .object({
    id: name,
    name: z.string().min(1).max(100).optional(),
    host: name,
    memoryMiB: z.number().int().min(16).max(16 * 1024 * 1024),
    vcpus: z.number().int().min(1).max(1024),
    zeroFraction: z.number().min(0).max(1).default(0.2),
    wssMiB: z.number().min(0),
    dirtyMiBps: z.number().min(0).max(1_000_000),
    readWssMiB: z.number().min(0).optional(),
    readMiBps: z.number().min(0).optional(),
    cpuPct: z.number().min(0).max(100).default(30),
    antiAffinity: name.nullable().optional(),
    /** Where its writes fall in the working set: random (default), sweep (in order), skewed (80 % into a fifth). */
    writePattern: z.enum(['random', 'sweep', 'skewed']).optional(),
  })
  .strict();

export const simDatacenterSchema = z
  .object({
    name: z.string().min(1).max(200).default('datacenter'),
    /** 'virtual': as fast as the CPU allows; a number: times real time. */
    clock: z.union([z.literal('virtual'), z.number().positive().max(1_000_000)]).default(1),
    /** Random seed for workload jitter, so runs are repeatable. */
    seed: z.number().int().default(1),
    /**
     * The unit the simulator tracks guest memory in, KiB: 4 (a page, as QEMU; the default) or
     * a coarser power of two up to 256. Coarser units simulate faster, for datacenter-scale
     * runs; what they change is in main/sim/pages.ts.
     */
    unitKiB: z
      .number()
      .int()
      .refine((k) => k >= 4 && k <= 4 * MAX_UNIT_PAGES && (k & (k - 1)) === 0, { message: `must be 4, 8, 16, 32, 64, 128 or ${4 * MAX_UNIT_PAGES} (KiB)` })
      .optional(),
    clusters: z.array(z.object({ id: name, name: z.string().min(1).max(100).optional() }).strict()).min(1),
    hosts: z.array(simHostSchema).min(1),
    vms: z.array(simVmSchema),
  })
  .strict();

export type SimDatacenter = z.output<typeof simDatacenterSchema>;
export type SimHost = SimDatacenter['hosts'][number];
export type SimVm = SimDatacenter['vms'][number];

/**
 * Maps every JSON path ("vms.3.host") of already-valid JSON text to the line it starts on,
 * so that a bad file is reported at its line. A small recursive-descent walk.
 */
function jsonLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) if (text[i++] === '\n') line++;
  };
  const str = (): string => {
    let s = '';
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      s += text[i++];
    }
    i++;
    return s;
  };
  const value = (path: string) => {
    ws();
    lines.set(path, line);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      while (text[i] !== '}' && i < text.length) {
        ws();
        const key = str();
        ws();
        i++; // ':'
        ws();
        const keyLine = line;
        value(path ? `${path}.${key}` : key);
        lines.set(path ? `${path}.${key}` : key, keyLine);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      ws();
      let n = 0;
      while (text[i] !== ']' && i < text.length) {
        value(path ? `${path}.${n}` : String(n));
        n++;
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') str();
    else while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++;
  };
  value('');
  return lines;
}

function lineOf(text: string, path: readonly PropertyKey[]): number | null {
  const lines = jsonLines(text);
  // The deepest existing prefix: a missing field is reported at its parent object.
  for (let n = path.length; n >= 0; n--) {
    const hit = lines.get(path.slice(0, n).map(String).join('.'));
    if (hit !== undefined) return hit;
  }
  return null;
}

/** Parses and checks a datacenter file; throws an Error naming the line and field at fault. */
export function parseSimDatacenter(text: string, file = 'datacenter file'): SimDatacenter {
  const bytes = Buffer.byteLength(text);
  if (bytes > SIM_LIMITS.fileBytes) throw new Error(`${file}: ${bytes} bytes is larger than the cap of ${SIM_LIMITS.fileBytes} bytes`);
  // Before the parse: the line finder below, and the schema, walk the document recursively.
  if (jsonTooDeep(text)) throw new Error(`${file}: the JSON is nested more than ${MAX_JSON_DEPTH} levels deep`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : null;
    throw new Error(`${file}${line ? ` line ${line}` : ''}: not valid JSON (${(e as Error).message})`);
  }
  checkCounts(raw, file);
  const res = simDatacenterSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    const line = lineOf(text, issue.path);
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new Error(`${file}${line ? ` line ${line}` : ''}: ${field || '(top level)'}: ${issue.message}`);
  }
  return checkReferences(res.data, text, file);
}

/** The counts, before the schema looks at every element of a list that may be huge. */
function checkCounts(raw: unknown, file: string): void {
  if (!raw || typeof raw !== 'object') return;
  for (const key of ['clusters', 'hosts', 'vms'] as const) {
    const list = (raw as Record<string, unknown>)[key];
    if (Array.isArray(list) && list.length > SIM_LIMITS[key]) {
      throw new Error(`${file}: ${key}: ${list.length} ${key === 'vms' ? 'VMs' : key} is more than the cap of ${SIM_LIMITS[key]}`);
    }
  }
}

function checkReferences(dc: SimDatacenter, text: string, file: string): SimDatacenter {
  const fail = (path: (string | number)[], msg: string): never => {
    const line = lineOf(text, path);
    const field = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
    throw new Error(`${file}${line ? ` line ${line}` : ''}: ${field}: ${msg}`);
  };
  const clusters = new Set<string>();
  dc.clusters.forEach((c, i) => {
    if (clusters.has(c.id)) fail(['clusters', i, 'id'], `duplicate cluster id "${c.id}"`);
    clusters.add(c.id);
  });
  const hosts = new Map<string, SimHost>();
  dc.hosts.forEach((h, i) => {
    if (hosts.has(h.id)) fail(['hosts', i, 'id'], `duplicate host id "${h.id}"`);
    if (!clusters.has(h.cluster)) fail(['hosts', i, 'cluster'], `unknown cluster "${h.cluster}"`);
    hosts.set(h.id, h);
  });
  const vms = new Set<string>();
  dc.vms.forEach((v, i) => {
    if (vms.has(v.id)) fail(['vms', i, 'id'], `duplicate VM id "${v.id}"`);
    vms.add(v.id);
    if (!hosts.has(v.host)) fail(['vms', i, 'host'], `unknown host "${v.host}"`);
    if (v.wssMiB > v.memoryMiB) fail(['vms', i, 'wssMiB'], `working set ${v.wssMiB} MiB is larger than memory ${v.memoryMiB} MiB`);
    if ((v.readWssMiB ?? 0) > v.memoryMiB) fail(['vms', i, 'readWssMiB'], `read working set is larger than memory`);
  });
  return dc;
}
