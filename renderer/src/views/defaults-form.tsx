// The settings that apply to new work, edited in one form: the default migration policy,
// the concurrency limits and the maintenance defaults. Main validates the whole change;
// a refusal names the field and keeps what was typed.
import { useEffect, useState } from 'react';
import { TIMEOUT_ACTIONS, type Settings, type SettingsPatch } from '../../../preload/model';
import { ferry } from '../api';
import { errorText } from '../format';

/** A numeric field: its label, where it lives in the settings, and whether empty means null. */
interface Field {
  label: string;
  unit: string;
  get(s: Settings): number | null;
  patch(v: number | null): SettingsPatch;
  /** Empty means "none" (shown as the placeholder). */
  empty?: string;
}

const FIELDS: { section: string; fields: Field[] }[] = [
  {
    section: 'Migration defaults',
    fields: [
      { label: 'Downtime limit', unit: 'ms', get: (s) => s.policy.downtimeLimitMs, patch: (v) => ({ policy: { downtimeLimitMs: v! } }) },
      { label: 'Bandwidth cap', unit: 'MiB/s', get: (s) => s.policy.bandwidthMiBps, patch: (v) => ({ policy: { bandwidthMiBps: v } }), empty: 'no cap' },
      { label: 'Timeout', unit: 's', get: (s) => s.policy.timeoutS, patch: (v) => ({ policy: { timeoutS: v! } }) },
      { label: 'Stall after', unit: 'rounds', get: (s) => s.policy.stallRounds, patch: (v) => ({ policy: { stallRounds: v! } }) },
    ],
  },
  {
    section: 'Concurrency',
    fields: [
      { label: 'Out of one host', unit: 'at once', get: (s) => s.limits.perHostOut, patch: (v) => ({ limits: { perHostOut: v! } }) },
      { label: 'Into one host', unit: 'at once', get: (s) => s.limits.perHostIn, patch: (v) => ({ limits: { perHostIn: v! } }) },
      { label: 'In all', unit: 'at once', get: (s) => s.limits.total, patch: (v) => ({ limits: { total: v! } }) },
    ],
  },
  {
    section: 'Maintenance',
    fields: [
      { label: 'Memory headroom', unit: '%', get: (s) => s.headroomPct, patch: (v) => ({ headroomPct: v! }) },
      { label: 'Schedule grace', unit: 'min', get: (s) => s.scheduleGraceMin, patch: (v) => ({ scheduleGraceMin: v! }) },
      { label: 'Watts per host', unit: 'W', get: (s) => s.wattsPerHost, patch: (v) => ({ wattsPerHost: v }), empty: 'from size' },
    ],
  },
];

const ALL = FIELDS.flatMap((g) => g.fields);

/** Deep-merges patches section by section. */
function mergePatches(ps: SettingsPatch[]): SettingsPatch {
  const out: Record<string, unknown> = {};
  for (const p of ps) {
    for (const [k, v] of Object.entries(p)) {
      out[k] = v && typeof v === 'object' ? { ...((out[k] as object | undefined) ?? {}), ...v } : v;
    }
  }
  return out as SettingsPatch;
}

export function DefaultsForm() {
  const [saved, setSaved] = useState<Settings | null>(null);
  const [text, setText] = useState<string[]>([]);
  const [timeoutAction, setTimeoutAction] = useState<Settings['policy']['timeoutAction']>('abort');
  const [autoConverge, setAutoConverge] = useState(false);
  const [faultThrottle, setFaultThrottle] = useState(true);
  const [preferSpeed, setPreferSpeed] = useState(false);
  const [state, setState] = useState<{ busy: boolean; error: string | null; note: string | null }>({ busy: false, error: null, note: null });

  const show = (s: Settings) => {
    setSaved(s);
    setText(ALL.map((f) => (f.get(s) === null ? '' : String(f.get(s)))));
    setTimeoutAction(s.policy.timeoutAction);
    setAutoConverge(s.policy.autoConverge);
    setFaultThrottle(s.policy.postcopyFaultThrottle);
    setPreferSpeed(s.policy.preferSpeed);
  };
  useEffect(() => {
    void ferry.settings.get().then(show, (e) => setState({ busy: false, error: errorText(e), note: null }));
    return ferry.on('settings:changed', (s) => show(s));
  }, []);

  const save = async () => {
    if (!saved) return;
    const patches: SettingsPatch[] = [];
    for (const [i, f] of ALL.entries()) {
      const raw = text[i]!.trim();
      if (raw === '' && !f.empty) return setState({ busy: false, error: `${f.label}: give a number (${f.unit})`, note: null });
      const v = raw === '' ? null : Number(raw);
      if (v !== null && !Number.isFinite(v)) return setState({ busy: false, error: `${f.label}: "${raw}" is not a number`, note: null });
      if (v !== f.get(saved)) patches.push(f.patch(v));
    }
    if (timeoutAction !== saved.policy.timeoutAction) patches.push({ policy: { timeoutAction } });
    if (autoConverge !== saved.policy.autoConverge) patches.push({ policy: { autoConverge } });
    if (faultThrottle !== saved.policy.postcopyFaultThrottle) patches.push({ policy: { postcopyFaultThrottle: faultThrottle } });
    if (preferSpeed !== saved.policy.preferSpeed) patches.push({ policy: { preferSpeed } });
    if (!patches.length) return setState({ busy: false, error: null, note: 'Nothing changed.' });
    setState({ busy: true, error: null, note: null });
    try {
      show(await ferry.settings.set(mergePatches(patches)));
      setState({ busy: false, error: null, note: 'Saved: new migrations and plans use these.' });
    } catch (e) {
      setState({ busy: false, error: errorText(e), note: null });
    }
  };

  let n = 0;
  return (
    <section className="panel panel-body defaults-form" data-testid="settings-defaults">
      <h2>Defaults for new work</h2>
      <p className="muted">Migrations already queued or running keep what they were given.</p>
      <div className="defaults-fields">
      {FIELDS.map((g) => (
        <fieldset key={g.section}>
          <legend>{g.section}</legend>
          {g.fields.map((f) => {
            const i = n++;
            return (
              <label key={f.label}>
                <span>{f.label}</span>
                <input type="text" inputMode="decimal" value={text[i] ?? ''} placeholder={f.empty} aria-label={f.label} onChange={(e) => setText((t) => t.map((x, j) => (j === i ? e.target.value : x)))} />
                <span className="muted">{f.unit}</span>
              </label>
            );
          })}
          {g.section === 'Migration defaults' && (
            <>
              <label>
                <span>At the timeout</span>
                <select value={timeoutAction} aria-label="At the timeout" onChange={(e) => setTimeoutAction(e.target.value as typeof timeoutAction)}>
                  {TIMEOUT_ACTIONS.map((a) => (
                    <option key={a} value={a}>
                      {a === 'abort' ? 'abort (the VM stays)' : a === 'postcopy' ? 'switch to post-copy' : 'throttle the guest'}
                    </option>
                  ))}
                </select>
              </label>
              <label className="check">
                <input type="checkbox" checked={autoConverge} onChange={(e) => setAutoConverge(e.target.checked)} />
                Auto-converge (throttle vCPUs when pre-copy stalls)
              </label>
              <label className="check">
                <input type="checkbox" checked={faultThrottle} onChange={(e) => setFaultThrottle(e.target.checked)} />
                Slow the guest after a post-copy switch
              </label>
              <label className="check">
                <input type="checkbox" checked={preferSpeed} onChange={(e) => setPreferSpeed(e.target.checked)} />
                Prefer speed: auto takes post-copy whenever it is faster (a VM in post-copy is lost if its link dies)
              </label>
            </>
          )}
        </fieldset>
      ))}
      </div>
      <div className="defaults-actions">
        <button type="button" className="btn primary" disabled={!saved || state.busy} onClick={() => void save()}>
          Save
        </button>
        {state.error && (
          <span className="error-text" role="alert">
            {state.error}
          </span>
        )}
        {state.note && <span className="muted" role="status">{state.note}</span>}
      </div>
    </section>
  );
}
