// The Events view: open alarms on top (severity, what happened and what to do, when, a link,
// Acknowledge), then the events log (what people did and what the engine decided), searched
// as you type and paged as you scroll; the rows are virtualised.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { Alarm, AlarmSeverity, LogEntry } from '../../../preload/model';
import { ferry } from '../api';
import { errorText, formatTime } from '../format';
import { href } from '../router';
import { acknowledge, alarmLink, alarmTitle, reloadAlarms, useAlarms } from '../state/alarms';
import { toast } from '../state/toasts';

const ROW = 32;
const PAGE = 200;
const TEMPLATE = '160px 130px 170px minmax(200px, 1fr) 110px';
const SEVERITY_BADGE: Record<AlarmSeverity, string> = { critical: 'bad', major: 'bad', warning: 'warn' };

function AlarmRow({ a }: { a: Alarm }) {
  const [busy, setBusy] = useState(false);
  const link = alarmLink(a);
  const ack = async () => {
    setBusy(true);
    try {
      await acknowledge(a.id);
    } catch (e) {
      toast({ kind: 'error', title: 'Could not acknowledge the alarm', body: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className={`alarm ${a.severity}${a.ackedAt ? ' acked' : ''}`} data-testid={`alarm-${a.kind}`} data-alarm-id={a.id}>
      <span className={`badge ${a.ackedAt ? '' : SEVERITY_BADGE[a.severity]}`}>{a.severity}</span>
      <div className="alarm-body">
        <div className="alarm-title">
          <strong>{alarmTitle(a)}</strong>
          <span className="muted">{formatTime(a.at)}</span>
        </div>
        <p className="alarm-text">{a.text}</p>
        {a.ackedAt && (
          <p className="muted alarm-acked">
            Acknowledged by {a.ackedBy} at {formatTime(a.ackedAt)}
          </p>
        )}
      </div>
      <div className="alarm-actions">
        {link && (
          <a className="btn small ghost" href={link.href}>
            {link.label}
          </a>
        )}
        {!a.ackedAt && (
          <button type="button" className="btn small primary" disabled={busy} onClick={ack} data-testid="alarm-ack">
            Acknowledge
          </button>
        )}
      </div>
    </li>
  );
}

function Alarms() {
  const list = useAlarms();
  const [showAcked, setShowAcked] = useState(false);
  useEffect(() => void reloadAlarms(), []);
  const open = list?.alarms.filter((a) => !a.ackedAt) ?? [];
  const acked = list?.alarms.filter((a) => a.ackedAt) ?? [];
  return (
    <section className="panel events-alarms" aria-label="Alarms" data-testid="alarms">
      <div className="panel-head">
        <h2>Alarms</h2>
        <span className={`badge ${open.length ? 'bad' : 'ok'}`} data-testid="alarms-open">
          {open.length ? `${open.length} to acknowledge` : 'none open'}
        </span>
        <span className="spacer" />
        {acked.length > 0 && (
          <button type="button" className="btn small ghost" onClick={() => setShowAcked((v) => !v)}>
            {showAcked ? 'Hide acknowledged' : `Show acknowledged (${acked.length})`}
          </button>
        )}
      </div>
      {!list && <div className="empty">Loading…</div>}
      {list && !open.length && !showAcked && <div className="empty">No open alarms: hosts answer, and migrations end within their limits.</div>}
      <ul className="alarm-list">
        {open.map((a) => (
          <AlarmRow key={a.id} a={a} />
        ))}
        {showAcked && acked.map((a) => <AlarmRow key={a.id} a={a} />)}
      </ul>
    </section>
  );
}

function useLog(q: string) {
  const [rows, setRows] = useState<LogEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const asked = useRef(0);
  const load = useCallback(
    async (before: string | null) => {
      const n = ++asked.current;
      setLoading(true);
      try {
        const page = await ferry.events.list({ q: q || undefined, limit: PAGE, before: before ?? undefined });
        if (n !== asked.current) return;
        setRows((prev) => (before ? [...prev, ...page.rows] : page.rows));
        setNext(page.next);
        setError(null);
      } catch (e) {
        if (n === asked.current) setError(errorText(e));
      } finally {
        if (n === asked.current) setLoading(false);
      }
    },
    [q],
  );
  useEffect(() => {
    const t = setTimeout(() => void load(null), 200);
    return () => clearTimeout(t);
  }, [load]);
  return { rows, next, error, loading, more: () => next && !loading && void load(next), refresh: () => void load(null) };
}

function EventsLog() {
  const [q, setQ] = useState('');
  const log = useLog(q.trim());
  const ref = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: log.rows.length, getScrollElement: () => ref.current, estimateSize: () => ROW, overscan: 10 });
  const items = virt.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? -1;
  // Scrolled near the end: the next, older page.
  useEffect(() => {
    if (lastIndex >= log.rows.length - 20 && log.next) log.more();
  }, [lastIndex, log]);
  // What happens while it is open shows up: an alarm raised or acknowledged is a new row too.
  const alarms = useAlarms();
  const { refresh } = log;
  const seen = alarms ? `${alarms.alarms.length}:${alarms.unacknowledged}` : null;
  const first = useRef(true);
  useEffect(() => {
    if (seen === null) return;
    if (first.current) first.current = false;
    else refresh();
  }, [seen]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <section className="panel events-log" aria-label="Events log">
      <div className="panel-head">
        <h2>Log</h2>
        <input
          type="search"
          placeholder="Search actor, action or detail"
          aria-label="Search the events log"
          value={q}
          maxLength={200}
          onChange={(e) => setQ(e.target.value)}
          data-testid="events-search"
        />
        <span className="muted" data-testid="events-count">
          {log.loading ? 'Loading…' : `${log.rows.length}${log.next ? '+' : ''} ${log.rows.length === 1 ? 'event' : 'events'}`}
        </span>
      </div>
      <div className="hosts-table events-table" role="table" aria-label="Events" aria-rowcount={log.rows.length + 1}>
        <div className="ht-head" role="row" style={{ gridTemplateColumns: TEMPLATE }}>
          {['Time', 'Actor', 'Action', 'Detail', ''].map((h) => (
            <div key={h} role="columnheader">
              {h || <span className="sr-only">Report</span>}
            </div>
          ))}
        </div>
        <div className="ht-body" ref={ref} data-testid="events-rows">
          {log.error && <div className="empty error-text">Could not read the log: {log.error}</div>}
          {!log.error && !log.loading && !log.rows.length && <div className="empty">{q ? `Nothing matches “${q}”.` : 'Nothing has happened yet.'}</div>}
          <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
            {items.map((vi) => {
              const r = log.rows[vi.index]!;
              return (
                <div key={r.key} role="row" className="ht-row static" data-testid="events-row" style={{ gridTemplateColumns: TEMPLATE, height: ROW, transform: `translateY(${vi.start}px)` }}>
                  <div role="cell" className="mono">
                    {formatTime(r.at)}
                  </div>
                  <div role="cell">{r.actor}</div>
                  <div role="cell">
                    <span className={`badge ${r.source === 'engine' ? 'info' : ''}`}>{r.action}</span>
                  </div>
                  <div role="cell" title={r.summary}>
                    {r.summary}
                  </div>
                  <div role="cell">{r.migrationId && <a href={href({ view: 'report', id: r.migrationId })}>Report</a>}</div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}

export function EventsView() {
  return (
    <div className="view events-view" data-testid="events-view">
      <Alarms />
      <EventsLog />
    </div>
  );
}
