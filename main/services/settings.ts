// The settings that apply to new work, kept in the data directory's database: the default
// migration policy, the concurrency limits, and maintenance defaults. Every change is
// validated whole (a bad figure changes nothing and says which), audited with what changed
// from what, applied to the engine, and announced to every window.
import { FerryError } from '../../preload/contract';
import { DEFAULT_POLICY, settingsPatch, settingsSchema, type Settings, type SettingsPatch } from '../../preload/model';
import { DEFAULT_LIMITS } from '../engine/constants';
import type { MigrationEngine } from '../engine/engine';
import { DEFAULT_HEADROOM } from '../engine/evacuation';
import type { EventBus } from '../events';
import type { Store } from '../store/store';

const KEY = 'settings';

export const DEFAULT_SETTINGS: Settings = {
  policy: { ...DEFAULT_POLICY },
  limits: { ...DEFAULT_LIMITS },
  headroomPct: DEFAULT_HEADROOM * 100,
  scheduleGraceMin: 15,
  wattsPerHost: null,
};

/** Every leaf that differs, as `path: before -> after`. */
function changes(before: Settings, after: Settings): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    } else if (a !== b) {
      out.push(`${path}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
    }
  };
  walk(before, after, '');
  return out;
}

export class SettingsService {
  private current: Settings;
  /** Why the stored settings were not used, if they were not (shown, not thrown). */
  readonly loadNote: string | null;

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly actor: string,
    private readonly engine: MigrationEngine,
  ) {
    const loaded = SettingsService.read(store);
    this.current = loaded.settings;
    this.loadNote = loaded.note;
    this.apply();
  }

  /** The stored settings over the defaults; a stored value that no longer validates falls back to the defaults, with why. */
  static read(store: Store): { settings: Settings; note: string | null } {
    const raw = store.getMeta(KEY);
    if (raw === null) return { settings: structuredClone(DEFAULT_SETTINGS), note: null };
    try {
      const stored = settingsPatch.parse(JSON.parse(raw));
      return { settings: merge(DEFAULT_SETTINGS, stored), note: null };
    } catch (e) {
      return { settings: structuredClone(DEFAULT_SETTINGS), note: `the stored settings could not be read (${(e as Error).message.split('\n')[0]}); the defaults apply until they are saved again` };
    }
  }

  get(): Settings {
    return structuredClone(this.current);
  }

  set(patch: SettingsPatch): Settings {
    const next = merge(this.current, patch);
    const what = changes(this.current, next);
    if (!what.length) return this.get();
    this.store.setMeta(KEY, JSON.stringify(next));
    this.store.audit(this.actor, 'settings', { changed: what });
    this.current = next;
    this.apply();
    this.events.emit('settings:changed', this.get());
    return this.get();
  }

  private apply(): void {
    const c = this.current;
    this.engine.configure({ policy: c.policy, limits: c.limits, headroom: c.headroomPct / 100, wattsPerHost: c.wattsPerHost });
  }
}

/** `base` with `patch` laid over it, checked whole: a bad figure is refused with its name. */
function merge(base: Settings, patch: SettingsPatch): Settings {
  const merged = {
    ...base,
    ...strip(patch),
    policy: { ...base.policy, ...strip(patch.policy ?? {}) },
    limits: { ...base.limits, ...strip(patch.limits ?? {}) },
  };
  const r = settingsSchema.safeParse(merged);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new FerryError('bad-request', `setting ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
