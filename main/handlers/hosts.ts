import type { Handlers } from '../router';
import type { HostsService } from '../services/hosts';

type HostChannels = 'hosts:connections' | 'hosts:test' | 'hosts:add' | 'hosts:remove';

export const hostHandlers = (hosts: HostsService): Pick<Handlers, HostChannels> => ({
  'hosts:connections': () => hosts.connections(),
  'hosts:test': (r) => hosts.test(r.uri, r.acceptHostKey),
  'hosts:add': (r) => hosts.add(r),
  'hosts:remove': (r) => hosts.remove(r.name),
});
