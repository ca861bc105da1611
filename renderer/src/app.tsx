// The shell: navigation, header with app info, the routed view, and notifications.
import { lazy, Suspense, useEffect, type ComponentType, type ReactNode } from 'react';
import { ferry } from './api';
import { Toasts } from './components/toasts';
import { ViewBoundary } from './components/view-boundary';
import { formatMs } from './format';
import { ClusterMap } from './map/cluster-map';
import { href, useRoute, type Route } from './router';
import { useAppInfo } from './state/app-info';
import { useActiveIds } from './state/progress';
import { toast } from './state/toasts';
import { useTheme } from './theme';
import { useAlarmFeed, useAlarms } from './state/alarms';

/**
 * A view loaded when it is first opened: the console's first screen is the map, whose code
 * is all that is loaded (and evaluated) before it is drawn.
 */
function later<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  return lazy(() => load().then((component) => ({ default: component })));
}

const MigrationsView = later(() => import('./active/migrations-view').then((m) => m.MigrationsView));
const HistoryView = later(() => import('./history/history-view').then((m) => m.HistoryView));
const ReportView = later(() => import('./report/report-view').then((m) => m.ReportView));
const MaintenanceView = later(() => import('./views/maintenance-view').then((m) => m.MaintenanceView));
const EvacuationReportView = later(() => import('./views/evacuation-report-view').then((m) => m.EvacuationReportView));
const HostsView = later(() => import('./views/hosts-view').then((m) => m.HostsView));
const EventsView = later(() => import('./views/events-view').then((m) => m.EventsView));
const VmsView = later(() => import('./views/vms-view').then((m) => m.VmsView));
const SettingsView = later(() => import('./views/settings-view').then((m) => m.SettingsView));

const NAV: { view: Route['view']; label: string; icon: ReactNode }[] = [
  { view: 'map', label: 'Cluster map', icon: <path d="M3 3h6v6H3zM11 3h6v6h-6zM3 11h6v6H3zM11 11h6v6h-6z" /> },
  { view: 'migrations', label: 'Migrations', icon: <path d="M3 7h11l-3-3M17 13H6l3 3" /> },
  { view: 'history', label: 'History', icon: <path d="M10 4a6 6 0 1 1-6 6M10 6v4l3 2M4 4v4h4" /> },
  { view: 'maintenance', label: 'Maintenance', icon: <path d="M13 3a4 4 0 0 0-4 5l-6 6 3 3 6-6a4 4 0 0 0 5-4l-2 2-2-2 2-2z" /> },
  { view: 'vms', label: 'VMs', icon: <path d="M4 4h12v9H4zM7 16h6M10 13v3" /> },
  { view: 'events', label: 'Events', icon: <path d="M10 3a5 5 0 0 0-5 5v3l-2 3h14l-2-3V8a5 5 0 0 0-5-5zM8 17a2 2 0 0 0 4 0" /> },
  { view: 'hosts', label: 'Hosts', icon: <path d="M3 4h14v5H3zM3 11h14v5H3zM6 6.5h.01M6 13.5h.01" /> },
  { view: 'settings', label: 'Settings', icon: <path d="M10 7a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM10 2v3M10 15v3M2 10h3M15 10h3M4.3 4.3l2 2M13.7 13.7l2 2M4.3 15.7l2-2M13.7 6.3l2-2" /> },
];

const TITLES: Record<Route['view'], string> = {
  map: 'Cluster map',
  migrations: 'Migrations',
  history: 'History',
  report: 'Migration report',
  maintenance: 'Maintenance',
  evacuation: 'Evacuation report',
  hosts: 'Hosts',
  events: 'Events',
  vms: 'VMs',
  settings: 'Settings',
};

function Icon({ children }: { children: ReactNode }) {
  return (
    <svg width="18" height="18" viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      {children}
    </svg>
  );
}

function Nav({ route }: { route: Route }) {
  const active = useActiveIds().length;
  const alarms = useAlarms()?.unacknowledged ?? 0;
  const current = route.view === 'report' ? 'history' : route.view === 'evacuation' ? 'maintenance' : route.view;
  return (
    <nav className="nav" aria-label="Main">
      <div className="brand">
        <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M2 16c3 3 7 3 10 0s7-3 10 0" fill="none" stroke="#5b8dff" strokeWidth="2.2" strokeLinecap="round" />
          <path d="M5 13h14l-2-6H7z" fill="#5b8dff" />
          <path d="M11 4h2v3h-2z" fill="#9db9ff" />
        </svg>
        Ferry
      </div>
      <ul>
        {NAV.map((n) => (
          <li key={n.view}>
            <a href={href({ view: n.view } as Route)} aria-current={current === n.view ? 'page' : undefined} data-testid={`nav-${n.view}`}>
              <Icon>{n.icon}</Icon>
              {n.label}
              {n.view === 'migrations' && active > 0 && <span className="count">{active}</span>}
              {n.view === 'events' && alarms > 0 && (
                <span className="count alarms" data-testid="nav-events-badge" aria-label={`${alarms} unacknowledged ${alarms === 1 ? 'alarm' : 'alarms'}`}>
                  {alarms}
                </span>
              )}
            </a>
          </li>
        ))}
      </ul>
      <div className="foot">Live migration console</div>
    </nav>
  );
}

function Header({ route }: { route: Route }) {
  const { info, error } = useAppInfo();
  const [theme, setTheme] = useTheme();
  const next = theme === 'system' ? 'light' : theme === 'light' ? 'dark' : 'system';
  // The button's words are the start of its accessible name (what speech input users say);
  // the symbol before them is decoration.
  const word: Record<typeof theme, string> = { system: 'Auto', light: 'Light', dark: 'Dark' };
  const symbol: Record<typeof theme, string> = { system: '◐', light: '☀', dark: '☾' };
  return (
    <header className="header">
      <h1>{TITLES[route.view]}</h1>
      <div className="meta" data-testid="app-info">
        {error && <span className="error-text">Not connected: {error}</span>}
        {info && (
          <>
            <span className="badge">{info.host === 'electron' ? 'Desktop' : 'Browser'}</span>
            <span>v{info.version}</span>
            <span className="path" title={`Data directory: ${info.dataDir}`}>
              Data: <span className="mono">{info.dataDir}</span>
            </span>
          </>
        )}
        <button
          type="button"
          className="btn small ghost"
          onClick={() => setTheme(next)}
          title={`Theme: ${theme}. Click for ${next}.`}
          aria-label={`${word[theme]} theme${theme === 'system' ? ' (follows the system)' : ''}; switch to ${word[next].toLowerCase()}`}
        >
          <span aria-hidden="true">{symbol[theme]}</span> {word[theme]}
        </button>
      </div>
    </header>
  );
}

/** A toast (and a desktop notification when the window is hidden) for every migration that ends. */
function useEndedNotifications() {
  useEffect(
    () =>
      ferry.on('migrations:ended', (r) => {
        // Cancelled before it started (a cancelled evacuation's queued moves): nothing happened to the VM.
        if (r.outcome === 'cancelled' && r.startedAt === null) return;
        const ok = r.outcome === 'completed';
        const title = ok ? `${r.vm} moved to ${r.to}` : r.outcome === 'cancelled' ? `Migration of ${r.vm} cancelled` : `Migration of ${r.vm} failed`;
        const body = ok
          ? `Downtime ${formatMs(r.downtimeMs)} (predicted ${formatMs(r.predicted.downtimeMs)}), total ${formatMs(r.totalMs)}.`
          : r.reason;
        toast({
          kind: ok ? 'success' : r.outcome === 'cancelled' ? 'warning' : 'error',
          title,
          body,
          link: { href: href({ view: 'report', id: r.id }), label: 'Open report' },
          testId: `toast-ended-${r.id}`,
        });
        if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
          new Notification(title, { body });
        }
      }),
    [],
  );
  // Evacuations: when one starts (a schedule came due, or someone else started it) and when it ends.
  useEffect(() => {
    const seen = new Map<string, string>();
    return ferry.on('maintenance:evacuation', (e) => {
      const before = seen.get(e.id);
      seen.set(e.id, e.state);
      if (before === e.state) return;
      const what = e.kind === 'return' ? `Bringing VMs back to ${e.hosts.join(', ')}` : `Evacuation of ${e.hosts.join(', ')}`;
      let title: string;
      let body: string;
      if (e.state === 'running') {
        if (before) return;
        title = `${what} started${e.scheduleId ? ' (scheduled)' : ''}`;
        body = `${e.total} ${e.total === 1 ? 'move' : 'moves'}, predicted ${formatMs(e.plan.etaMs)}${e.differences?.length ? `; ${e.differences.length} changes since the preview` : ''}.`;
      } else if (e.state === 'paused') {
        title = `${what} paused`;
        body = `${e.done} of ${e.total} moved; the queued moves wait until it is resumed, the running ones finish.`;
      } else {
        title = `${what} ${e.state}`;
        body = `${e.done} of ${e.total} moved in ${formatMs(e.actualMs)} (predicted ${formatMs(e.plan.etaMs)})${e.left.length ? `; ${e.left.length} stayed` : ''}.`;
      }
      toast({ kind: e.state === 'running' || e.state === 'completed' ? 'info' : 'warning', title, body, link: { href: href({ view: 'maintenance' }), label: 'Open Maintenance' } });
      if (document.hidden && 'Notification' in window && Notification.permission === 'granted') new Notification(title, { body });
    });
  }, []);
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'map':
      return <ClusterMap />;
    case 'migrations':
      return <MigrationsView />;
    case 'history':
      return <HistoryView />;
    case 'report':
      return <ReportView id={route.id} />;
    case 'maintenance':
      return <MaintenanceView />;
    case 'evacuation':
      return <EvacuationReportView id={route.id} />;
    case 'hosts':
      return <HostsView />;
    case 'events':
      return <EventsView />;
    case 'vms':
      return <VmsView id={route.id ?? null} />;
    case 'settings':
      return <SettingsView />;
  }
}

export function App() {
  const route = useRoute();
  useEndedNotifications();
  useAlarmFeed();
  return (
    <div className="shell">
      <Nav route={route} />
      <Header route={route} />
      <main className="main" id="main">
        <ViewBoundary view={'id' in route ? `${route.view}/${route.id}` : route.view}>
          <Suspense fallback={<div className="empty">Loading…</div>}>
            <View route={route} />
          </Suspense>
        </ViewBoundary>
      </main>
      <Toasts />
    </div>
  );
}
