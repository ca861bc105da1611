// Hosts added by address (libvirt's, by URI): listing their connections, testing a URI,
// adding and removing. Whichever driver brings a HostAdmin serves it; this service does
// not know which driver that is.
import { FerryError } from '../../preload/contract';
import type { HostAddRequest, HostConnection, HostTestResult } from '../../preload/model';
import type { HostAdmin, HostDriver } from '../engine/driver';
import type { InventoryService } from './inventory';

export class HostsService {
  constructor(
    private readonly drivers: readonly HostDriver[],
    private readonly inventory: InventoryService,
  ) {}

  private admin(): HostAdmin {
    const a = this.drivers.find((d) => d.hostAdmin)?.hostAdmin;
    if (!a) throw new FerryError('not-implemented', 'no driver in this Ferry adds hosts by address');
    return a;
  }

  connections(): HostConnection[] {
    return this.drivers.flatMap((d) => d.hostAdmin?.connections() ?? []);
  }

  test(uri: string, acceptHostKey?: string): Promise<HostTestResult> {
    return this.wrap(() => this.admin().test(uri, acceptHostKey));
  }

  async add(req: HostAddRequest): Promise<HostConnection> {
    const taken = new Set(this.inventory.get().hosts.map((h) => h.id));
    if (req.name && taken.has(req.name)) throw new FerryError('conflict', `a host named ${req.name} already exists; pick another --name`);
    return this.wrap(() => this.admin().add(req));
  }

  remove(name: string): { removed: string } {
    try {
      this.admin().remove(name);
    } catch (e) {
      throw e instanceof FerryError ? e : new FerryError(/no libvirt host/.test((e as Error).message) ? 'not-found' : 'conflict', (e as Error).message);
    }
    return { removed: name };
  }

  /** A refused URI is the caller's mistake (bad-request); the rest says why it failed. */
  private async wrap<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof FerryError) throw e;
      const m = (e as Error).message;
      throw new FerryError(/is not a libvirt URI|must start with|not supported|needs a host|passwords|unknown parameter|already added|host name is/.test(m) ? 'bad-request' : 'unavailable', m);
    }
  }
}
