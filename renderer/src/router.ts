// Hash routing: #/map, #/migrations, #/history, #/report/<id>, #/maintenance,
// #/evacuation/<id>, #/hosts, #/vms, #/vms/<vm id>, #/settings.
// The token of `ferry serve` never sits in the hash: api.ts takes it out of the address.
import { useSyncExternalStore } from 'react';

export type Route =
  | { view: 'map' }
  | { view: 'migrations' }
  | { view: 'history' }
  | { view: 'report'; id: string }
  | { view: 'maintenance' }
  | { view: 'evacuation'; id: string }
  | { view: 'hosts' }
  | { view: 'events' }
  | { view: 'vms'; id?: string }
  | { view: 'settings' };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'migrations':
      return { view: 'migrations' };
    case 'history':
      return { view: 'history' };
    case 'report':
      return parts[1] ? { view: 'report', id: parts[1] } : { view: 'history' };
    case 'maintenance':
      return { view: 'maintenance' };
    case 'evacuation':
      return parts[1] ? { view: 'evacuation', id: parts[1] } : { view: 'maintenance' };
    case 'hosts':
      return { view: 'hosts' };
    case 'events':
      return { view: 'events' };
    case 'vms':
      return parts[1] ? { view: 'vms', id: parts[1] } : { view: 'vms' };
    case 'settings':
      return { view: 'settings' };
    default:
      return { view: 'map' };
  }
}

export function href(route: Route): string {
  if (route.view === 'vms') return route.id ? `#/vms/${encodeURIComponent(route.id)}` : '#/vms';
  return route.view === 'report' || route.view === 'evacuation' ? `#/${route.view}/${encodeURIComponent(route.id)}` : `#/${route.view}`;
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

const subscribe = (fn: () => void) => {
  window.addEventListener('hashchange', fn);
  return () => window.removeEventListener('hashchange', fn);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return parseHash(hash);
}
