// The `libvirt` host driver: the hosts the user added by URI (libvirt-hosts.json), each
// behind one long-lived connection that is retried with back-off while its daemon is
// away; their running domains as VMs; peer-to-peer live migrations between them. The
// inventory is kept from polls and domain events, so inventory() never waits on a host.
import type { DriverFactory, DriverInventory, DriverMigration, HostAdmin, HostDriver, InventoryFilter, MigrationSpec, RecoveredMigration } from '../engine/driver';
import type { Cluster, DriverHealth, Host, HostAddRequest, HostConnection, HostTestResult, Vm } from '../../preload/model';
import { QEMU_CALIBRATION } from '../qemu/calibration';
import { LibvirtClient, type NodeInfo } from './client';
import { addHost, readHosts, readLinkRates, removeHost, saveLinkRate, type LibvirtHostRecord, type LinkRate } from './hosts';
import { LibvirtMigration } from './migration';
import { domainFacts, hypervisorRefusal, sharedOn, storageRefusal, type DomainFacts } from './precheck';
import { readMigrations, updateMigrations, type LibvirtMigrationEntry } from './migrations-state';
import { pidAlive } from '../pid';
import { type Domain, LIST_DOMAINS_ACTIVE } from './protocol';
import { HostKeyError } from './transport';
import { acceptHostKey, knownHostsFile } from './trust';
import { parseLibvirtUri } from './uri';

export const LIBVIRT_CLUSTER: Cluster = { id: 'libvirt', name: 'libvirt hosts' };

interface DomainState {
  dom: Domain;
  memoryMiB: number;
  vcpus: number;
  state: number;
  /** Why it is in that state (virDomainGetState's reason), null when libvirt did not say. */
  reason: number | null;
  cpuPct: number;
  cpuTimeNs: number;
  at: number;
  dirtyMiBps: number | null;
  /** When libvirt last measured it (epoch ms). */
  measuredAt: number;
  /** The last few measurements (MiB/s), newest last: their range is the prediction's band. */
  measured: number[];
  /** From its XML, for the pre-checks (fetched once). */
  facts: DomainFacts | null;
}

/** Measurements kept per domain for its band: about the last 2 minutes at one per 30 s. */
const MEASUREMENTS_KEPT = 4;

function noteMeasurement(d: DomainState, rate: number): void {
  d.dirtyMiBps = rate;
  d.measuredAt = Date.now();
  d.measured = [...d.measured, rate].slice(-MEASUREMENTS_KEPT);
}

interface HostConn {
  rec: LibvirtHostRecord;
  client: LibvirtClient | null;
  state: 'connecting' | 'up' | 'down';
  error: string | null;
  retryMs: number;
  retryTimer: NodeJS.Timeout | null;
  retryAt: number | null;
  /** Resolves when the first connection attempt ended. */
  first: Promise<void>;
  settleFirst: () => void;
  node: NodeInfo | null;
  domains: Map<string, DomainState>;
  versions: string | null;
  measuring: boolean;
}

export interface LibvirtDriverOptions {
  dataDir: string;
  pollMs?: number;
  /** Inventory refresh period, ms (default 3000). */
  refreshMs?: number;
  onChange?: () => void;
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;
/** How often a running guest's dirty rate is measured again. */
const DIRTY_RATE_EVERY_MS = 30000;

export class LibvirtDriver implements HostDriver {
  readonly kind = 'libvirt';
  readonly label = 'libvirt hosts';
  /**
   * libvirt drives QEMU: the QEMU model's calibration applies, without the lab's destination
   * start (this machine's memory, not a host's): a host's Prepare is learned from its history.
   */
  readonly calibration = QEMU_CALIBRATION;
  /** The source daemon carries a peer-to-peer migration on without Ferry. */
  readonly migrationsOutliveFerry = true;
  private readonly conns = new Map<string, HostConn>();
  private readonly active = new Map<string, LibvirtMigration>();
  /** "vm|host" -> why that host would refuse the VM (null: nothing), from the pre-checks. */
  private readonly refusals = new Map<string, string | null>();
  private prechecking = false;
  private readonly refreshTimer: NodeJS.Timeout;
  private disposed = false;

  constructor(private readonly opts: LibvirtDriverOptions) {
    this.sync();
    this.refreshTimer = setInterval(() => {
      this.sync();
      for (const c of this.conns.values()) if (c.state === 'up') void this.refresh(c);
    }, opts.refreshMs ?? 3000);
    this.refreshTimer.unref();
  }

  now(): number {
    return Date.now();
  }

  /** Guests whose dirty rate was measured, or CPU sampled, after `since` (epoch ms). */
  remeasured(since: number | null): { vmIds: string[]; now: number } {
    const now = Date.now();
    const vmIds: string[] = [];
    if (since !== null) {
      for (const c of this.conns.values()) {
        for (const d of c.domains.values()) if (d.measuredAt > since || d.at > since) vmIds.push(d.dom.name);
      }
    }
    return { vmIds, now };
  }

  /** Picks up hosts added or removed since (the CLI edits the file while the console runs). */
  private sync(): void {
    let recs: LibvirtHostRecord[];
    try {
      recs = readHosts(this.opts.dataDir);
    } catch {
      return;
    }
    const names = new Set(recs.map((r) => r.name));
    for (const [name, c] of this.conns) {
      if (!names.has(name)) {
        this.drop(c);
        this.conns.delete(name);
        this.opts.onChange?.();
      }
    }
    for (const rec of recs) {
      if (this.conns.has(rec.name)) continue;
      let settleFirst = () => {};
      const first = new Promise<void>((r) => (settleFirst = r));
      const c: HostConn = { rec, client: null, state: 'connecting', error: null, retryMs: RETRY_MIN_MS, retryTimer: null, retryAt: null, first, settleFirst, node: null, domains: new Map(), versions: null, measuring: false };
      this.conns.set(rec.name, c);
      void this.connect(c);
    }
  }

  private drop(c: HostConn): void {
    if (c.retryTimer) clearTimeout(c.retryTimer);
    c.client?.close();
    c.client = null;
  }

  private async connect(c: HostConn): Promise<void> {
    if (this.disposed) return;
    try {
      const client = await LibvirtClient.connect(c.rec.uri, { label: c.rec.name, knownHosts: [knownHostsFile(this.opts.dataDir)] });
      if (this.disposed || this.conns.get(c.rec.name) !== c) {
        client.close();
        return;
      }
      c.client = client;
      c.node = await client.nodeInfo();
      c.versions = `libvirt ${client.info.libvirtVersion}, QEMU ${client.info.hypervisorVersion}`;
      await client.subscribe();
      client.onLifecycle(() => void this.refresh(c));
      client.onClose((reason) => {
        if (c.client !== client) return;
        c.client = null;
        c.state = 'down';
        c.error = reason;
        this.opts.onChange?.();
        this.retry(c);
      });
      c.state = 'up';
      c.error = null;
      c.retryMs = RETRY_MIN_MS;
      // The host may have been upgraded or reconfigured while away: check again.
      for (const k of [...this.refusals.keys()]) if (k.endsWith(`|${c.rec.name}`)) this.refusals.delete(k);
      await this.refresh(c);
      this.opts.onChange?.();
    } catch (e) {
      c.client?.close();
      c.client = null;
      c.state = 'down';
      c.error = (e as Error).message;
      this.opts.onChange?.();
      this.retry(c);
    } finally {
      c.settleFirst();
    }
  }

  async ready(): Promise<void> {
    this.sync();
    await Promise.all([...this.conns.values()].map((c) => c.first));
  }

  private retry(c: HostConn): void {
    if (this.disposed || c.retryTimer) return;
    c.retryAt = Date.now() + c.retryMs;
    c.retryTimer = setTimeout(() => {
      c.retryTimer = null;
      c.retryAt = null;
      void this.connect(c);
    }, c.retryMs);
    c.retryTimer.unref();
    c.retryMs = Math.min(RETRY_MAX_MS, c.retryMs * 2);
  }

  private async refresh(c: HostConn): Promise<void> {
    const client = c.client;
    if (!client) return;
    try {
      const doms = await client.listDomains(LIST_DOMAINS_ACTIVE);
      const next = new Map<string, DomainState>();
      await Promise.all(
        doms.map(async (dom) => {
          const [info, st] = await Promise.all([client.domainInfo(dom), client.domainState(dom).catch(() => null)]);
          const prev = c.domains.get(dom.name);
          const at = Date.now();
          const cpuPct = prev && at > prev.at ? Math.min(100, ((info.cpuTimeNs - prev.cpuTimeNs) / 1e6 / (at - prev.at) / Math.max(1, info.vcpus)) * 100) : 0;
          next.set(dom.name, { dom, memoryMiB: info.maxMemKiB / 1024, vcpus: info.vcpus, state: info.state, reason: st?.reason ?? null, cpuPct: Math.max(0, cpuPct), cpuTimeNs: info.cpuTimeNs, at, dirtyMiBps: prev?.dirtyMiBps ?? null, measuredAt: prev?.measuredAt ?? 0, measured: prev?.measured ?? [], facts: prev?.facts ?? null });
        }),
      );
      const changed = next.size !== c.domains.size || [...next.keys()].some((k) => !c.domains.has(k) || c.domains.get(k)!.state !== next.get(k)!.state || c.domains.get(k)!.reason !== next.get(k)!.reason);
      c.domains = next;
      if (changed) this.opts.onChange?.();
      this.measureOne(c);
      void this.precheck(c);
    } catch {
      // the connection's close handler marks the host down; a busy daemon answers next time
    }
  }

  /**
   * The pre-checks of each guest on `c` against every other reachable host: CPU, machine
   * type and storage, asked of the destination's libvirt once and kept until either host
   * reconnects. refusal() answers from what is known; unknown means nothing in the way.
   */
  private async precheck(c: HostConn): Promise<void> {
    const client = c.client;
    if (this.prechecking || !client) return;
    this.prechecking = true;
    try {
      for (const d of [...c.domains.values()]) {
        if (this.disposed) return;
        d.facts ??= await client.domainXml(d.dom).then(domainFacts).catch(() => null);
        if (!d.facts) continue;
        for (const other of [...this.conns.values()]) {
          const dst = other.client;
          const key = `${d.dom.name}|${other.rec.name}`;
          if (other === c || !dst || this.disposed || this.refusals.has(key)) continue;
          const why = storageRefusal(d.facts, other.rec.name, await sharedOn(d.facts, dst).catch(() => new Set<string>())) ??
            (await hypervisorRefusal(d.facts, dst, other.rec.name, dst.info.hypervisorVersion).catch(() => null));
          this.refusals.set(key, why);
        }
      }
    } catch {
      // a host went away mid-check: the next refresh checks again
    } finally {
      this.prechecking = false;
    }
  }

  refusal(vmId: string, toHostId: string): string | null {
    return this.refusals.get(`${vmId}|${toHostId}`) ?? null;
  }

  /**
   * Keeps each running guest's dirty rate fresh for the predictions: libvirt's dirty-rate
   * calculation (page sampling, 1 s) on the guest measured longest ago, one at a time per
   * host, never on a guest that is migrating.
   */
  private measureOne(c: HostConn): void {
    if (c.measuring || !c.client) return;
    const migrating = new Set([...this.active.values()].map((m) => m.spec.vmId));
    const due = [...c.domains.values()].filter((d) => d.state === 1 && !migrating.has(d.dom.name) && Date.now() - d.measuredAt > DIRTY_RATE_EVERY_MS).sort((a, b) => a.measuredAt - b.measuredAt)[0];
    if (!due) return;
    c.measuring = true;
    const client = c.client;
    void client
      .measureDirtyRate(due.dom, 1)
      .then((rate) => {
        const d = c.domains.get(due.dom.name);
        if (d) noteMeasurement(d, rate);
        this.opts.onChange?.();
      })
      .catch(() => {
        const d = c.domains.get(due.dom.name);
        if (d) d.measuredAt = Date.now();
      })
      .finally(() => (c.measuring = false));
  }

  clusters(): Cluster[] {
    return this.conns.size ? [LIBVIRT_CLUSTER] : [];
  }

  health(): DriverHealth {
    const all = [...this.conns.values()];
    if (!all.length) return { state: 'empty', hosts: 0, hostsUp: 0, detail: 'no libvirt hosts added (ferry hosts add qemu+ssh://user@host/system)' };
    const up = all.filter((c) => c.state === 'up');
    const down = all.filter((c) => c.state !== 'up');
    const detail = down.length
      ? `${up.length} of ${all.length} reachable; ${down.map((c) => `${c.rec.name}: ${c.state === 'connecting' ? 'connecting' : c.error ?? 'unreachable'}`).join('; ')}`
      : `${all.length} hosts, all reachable (${[...new Set(up.map((c) => c.versions))].join('; ')})`;
    return { state: up.length === all.length ? 'ok' : up.length ? 'degraded' : 'unreachable', hosts: all.length, hostsUp: up.length, detail };
  }

  private connectionOf(c: HostConn): HostConnection {
    return { name: c.rec.name, uri: c.rec.uri, driver: this.kind, state: c.state, error: c.error, versions: c.versions, auth: c.client?.info.auth ?? null, retryAt: c.retryAt };
  }

  /** Adding, testing and removing hosts by URI, for `ferry hosts` and the Hosts view. */
  readonly hostAdmin: HostAdmin = {
    connections: () => [...this.conns.values()].map((c) => this.connectionOf(c)),
    test: (uri, accept) => this.test(uri, accept),
    add: async (req) => {
      const t = await this.test(req.uri, req.acceptHostKey);
      if (!t.reachable) throw new Error(t.error ?? `${req.uri} is not reachable`);
      const rec = addHost(this.opts.dataDir, req, t.hostname ?? '');
      this.sync();
      const c = this.conns.get(rec.name)!;
      await c.first;
      return this.connectionOf(c);
    },
    remove: (name) => {
      if ([...this.active.values()].some((m) => m.spec.fromId === name || m.spec.toId === name)) throw new Error(`${name} has a migration running; wait for it or cancel it first`);
      removeHost(this.opts.dataDir, name);
      this.sync();
    },
  };

  /** Connects once to `uri` and says what is there; accepts the SSH host key when `accept` matches it. */
  private async test(uriText: string, accept?: string): Promise<HostTestResult> {
    const uri = parseLibvirtUri(uriText);
    const res: HostTestResult = {
      uri: uri.uri, reachable: false, error: null, auth: null, hostname: null, libvirtVersion: null, hypervisorVersion: null, cpus: null, memoryMiB: null, runningDomains: null, hostKey: null, hostKeyUnknown: false,
    };
    let client: LibvirtClient | null = null;
    try {
      client = await LibvirtClient.connect(uri, { knownHosts: [knownHostsFile(this.opts.dataDir)], trustFingerprint: accept });
      const node = await client.nodeInfo();
      const doms = await client.listDomains(LIST_DOMAINS_ACTIVE);
      Object.assign(res, {
        reachable: true, auth: client.info.auth, hostname: client.info.hostname, libvirtVersion: client.info.libvirtVersion, hypervisorVersion: client.info.hypervisorVersion,
        cpus: node.cpus, memoryMiB: Math.floor(node.memoryKiB / 1024), runningDomains: doms.length,
      });
      if (client.info.hostKey) {
        res.hostKey = { type: client.info.hostKey.type, fingerprint: client.info.hostKey.fingerprint };
        if (accept && accept === client.info.hostKey.fingerprint) acceptHostKey(this.opts.dataDir, client.info.hostKey);
      }
    } catch (e) {
      res.error = (e as Error).message;
      if (e instanceof HostKeyError) {
        res.hostKey = { type: e.hostKey.type, fingerprint: e.hostKey.fingerprint };
        res.hostKeyUnknown = !e.changed;
      }
    } finally {
      client?.close();
    }
    return res;
  }

  inventory(only?: InventoryFilter): DriverInventory {
    const hosts: Host[] = [];
    const vms: Vm[] = [];
    const migrating = new Set([...this.active.values()].map((m) => m.spec.vmId));
    for (const c of this.conns.values()) {
      const mine: Vm[] = [];
      if (c.state === 'up') {
        for (const d of c.domains.values()) {
          const state = migrating.has(d.dom.name) ? 'migrating' : d.state === 1 ? 'running' : d.state === 3 ? 'paused' : 'stopped';
          mine.push({
            id: d.dom.name, name: d.dom.name, host: c.rec.name, memoryMiB: d.memoryMiB, vcpus: d.vcpus, state, cpuPct: d.cpuPct, antiAffinity: null,
            // libvirt does not know a guest's working set: assume all of its memory may be
            // written (the cautious case), at the rate libvirt last measured.
            workload: {
              zeroFraction: 0, wssMiB: d.memoryMiB, dirtyMiBps: d.dirtyMiBps ?? 0, readWssMiB: d.memoryMiB, readMiBps: d.dirtyMiBps ?? 0,
              ...(d.measured.length >= 2 ? { dirtyRangeMiBps: [Math.min(...d.measured), Math.max(...d.measured)] as [number, number] } : {}),
            },
          });
        }
      }
      vms.push(...mine);
      const memUsed = mine.reduce((a, v) => a + v.memoryMiB, 0);
      hosts.push({
        id: c.rec.name, name: c.rec.name, cluster: LIBVIRT_CLUSTER.id, rack: c.rec.rack, driver: 'libvirt',
        cores: c.node?.cpus ?? 0, memoryMiB: c.node ? Math.floor(c.node.memoryKiB / 1024) : 0, nicMiBps: c.rec.nicMiBps, maintenance: false,
        state: c.state === 'up' ? 'up' : 'down',
        usage: { cpuPct: c.node ? Math.min(100, mine.reduce((a, v) => a + v.cpuPct * v.vcpus, 0) / Math.max(1, c.node.cpus)) : 0, memUsedMiB: memUsed, nicOutMiBps: 0, nicInMiBps: 0 },
      });
    }
    if (!only) return { hosts, vms };
    return { hosts: hosts.filter((h) => only.hosts.has(h.id)), vms: vms.filter((v) => only.vms.has(v.id) || (only.vmsOnHosts && only.hosts.has(v.host))) };
  }

  private where(vmId: string): { c: HostConn; d: DomainState } | null {
    for (const c of this.conns.values()) {
      const d = c.domains.get(vmId);
      if (d) return { c, d };
    }
    return null;
  }

  async freshen(vmRefs: string[]): Promise<void> {
    const migrating = new Set([...this.active.values()].map((m) => m.spec.vmId));
    await Promise.all(
      vmRefs.map(async (ref) => {
        const w = this.where(ref);
        if (!w || w.d.state !== 1 || migrating.has(ref) || Date.now() - w.d.measuredAt < DIRTY_RATE_EVERY_MS) return;
        await this.measureDirtyRate(ref).catch(() => undefined);
      }),
    );
  }

  async measureDirtyRate(vmId: string): Promise<number> {
    const w = this.where(vmId);
    if (!w || !w.c.client) throw new Error(`no running libvirt domain ${vmId}`);
    const rate = await w.c.client.measureDirtyRate(w.d.dom, 1);
    noteMeasurement(w.d, rate);
    return rate;
  }

  migrate(spec: MigrationSpec): DriverMigration {
    const w = this.where(spec.vmId);
    if (!w) throw new Error(`no running libvirt domain ${spec.vmId}`);
    if (w.c.rec.name !== spec.fromId) throw new Error(`${spec.vmId} runs on ${w.c.rec.name}, not ${spec.fromId}`);
    const dst = this.conns.get(spec.toId);
    if (!dst) throw new Error(`no libvirt host ${spec.toId}`);
    if (spec.toId === spec.fromId) throw new Error(`${spec.vmId} already runs on ${spec.toId}`);
    if (!w.c.client) throw new Error(`${spec.fromId} is unreachable: ${w.c.error ?? 'not connected'}`);
    if (!dst.client) throw new Error(`${spec.toId} is unreachable: ${dst.error ?? 'not connected'}`);
    if ([...this.active.values()].some((m) => m.spec.vmId === spec.vmId)) throw new Error(`${spec.vmId} is already migrating`);
    const entry: LibvirtMigrationEntry = { id: `${spec.vmId}->${spec.toId}@${Date.now()}`, recordId: spec.recordId ?? null, spec, startedAt: Date.now(), ownerPid: process.pid };
    updateMigrations(this.opts.dataDir, (l) => [...l, entry]);
    const mig = this.track(entry, w.c, dst, w.d.dom);
    mig.run();
    this.opts.onChange?.();
    return mig;
  }

  private track(entry: LibvirtMigrationEntry, src: HostConn, dst: HostConn, dom: Domain): LibvirtMigration {
    const mig = new LibvirtMigration(
      {
        src: src.client!, dst: dst.client!, destPeerUri: dst.rec.peerUri, srcName: src.rec.name, dstName: dst.rec.name,
        linkMiBps: Math.min(src.rec.nicMiBps, dst.rec.nicMiBps), pollMs: this.opts.pollMs ?? 200,
        ended: () => {
          this.active.delete(entry.id);
          updateMigrations(this.opts.dataDir, (l) => l.filter((e) => e.id !== entry.id));
          void this.refresh(src);
          void this.refresh(dst);
          this.opts.onChange?.();
        },
      },
      entry.spec,
      dom,
      entry.startedAt,
    );
    this.active.set(entry.id, mig);
    // The pair's real throughput, from libvirt's own figure, when no cap held it back.
    const capMiBps = mig.capMiBps;
    void mig.done.then((r) => {
      const bps = r.libvirt?.bpsMiB ?? 0;
      if (r.outcome === 'completed' && bps > 0 && bps < capMiBps * 0.9) {
        saveLinkRate(this.opts.dataDir, src.rec.name, dst.rec.name, bps);
        this.links = null;
      }
    });
    return mig;
  }

  private links: Record<string, LinkRate> | null = null;

  measuredLinkMiBps(fromId: string, toId: string): number | null {
    this.links ??= readLinkRates(this.opts.dataDir);
    return this.links[`${fromId}->${toId}`]?.MiBps ?? null;
  }

  /**
   * Migrations a stopped Ferry left to the source daemons: once the hosts answer, each is
   * watched to its end (it finishes its own record). Entries whose hosts are gone are dropped.
   */
  async recover(): Promise<RecoveredMigration[]> {
    const left = readMigrations(this.opts.dataDir).filter((e) => e.ownerPid !== process.pid && !pidAlive(e.ownerPid));
    if (!left.length) return [];
    await this.ready();
    const out: RecoveredMigration[] = [];
    for (const e of left) {
      const src = this.conns.get(e.spec.fromId);
      const dst = this.conns.get(e.spec.toId);
      const dom = src?.client ? await src.client.lookup(e.spec.vmId).catch(() => null) : null;
      const domDst = dst?.client ? await dst.client.lookup(e.spec.vmId).catch(() => null) : null;
      if (!src?.client || !dst?.client || !(dom ?? domDst)) {
        updateMigrations(this.opts.dataDir, (l) => l.filter((x) => x.id !== e.id));
        continue;
      }
      updateMigrations(this.opts.dataDir, (l) => l.map((x) => (x.id === e.id ? { ...x, ownerPid: process.pid } : x)));
      const mig = this.track({ ...e, ownerPid: process.pid }, src, dst, (dom ?? domDst)!);
      mig.adopt();
      out.push({ migration: mig, recordId: e.recordId });
    }
    return out;
  }

  dispose(): void {
    this.disposed = true;
    // The daemons carry their migrations on; the next console recovers them.
    for (const m of this.active.values()) m.detach();
    this.active.clear();
    clearInterval(this.refreshTimer);
    for (const c of this.conns.values()) this.drop(c);
  }
}

export const libvirtDriver: DriverFactory = {
  kind: 'libvirt',
  create: (ctx) => new LibvirtDriver({ dataDir: ctx.dataDir, onChange: () => ctx.changed() }),
};
