// A libvirt connection with the calls Ferry makes, typed: what a host is and holds, its
// domains, their jobs and events, dirty-rate measurement, CPU comparison and peer-to-peer
// migration. One instance per daemon; the driver keeps it open and reconnects it.
import {
  AUTH, charsToString, EVENT_ID, FEATURE_PROGRAM_KEEPALIVE, JOB_TYPE, LIST_DOMAINS_ACTIVE, paramsToRecord, PROC,
  decode, type Domain, type TypedParam, type TypedValue, STATS_DIRTYRATE,
} from './protocol';
import { LibvirtError, RpcConnection } from './rpc';
import { openTransport, type HostKeyInfo, type TransportOptions } from './transport';
import { parseLibvirtUri, remoteName, type LibvirtUri } from './uri';

export interface NodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface DomainInfo {
  state: number;
  maxMemKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface JobStats {
  type: (typeof JOB_TYPE)[number];
  stats: Record<string, TypedValue>;
}

export interface ConnectInfo {
  auth: string;
  hostname: string;
  libvirtVersion: string;
  hypervisorVersion: string;
  hostKey?: HostKeyInfo;
}

/** libvirt's version numbers (major * 1,000,000 + minor * 1,000 + release) as "9.0.0". */
export function versionText(v: number): string {
  return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
}

export class LibvirtClient {
  private constructor(
    readonly uri: LibvirtUri,
    private readonly rpc: RpcConnection,
    readonly info: ConnectInfo,
  ) {}

  /** Connects, authenticates (none or polkit) and opens qemu:///system on the daemon. */
  static async connect(uriText: string | LibvirtUri, opts: TransportOptions & { label?: string } = {}): Promise<LibvirtClient> {
    const uri = typeof uriText === 'string' ? parseLibvirtUri(uriText) : uriText;
    const t = await openTransport(uri, opts);
    const rpc = new RpcConnection(t.stream, { label: opts.label ?? uri.uri });
    try {
      const auth = await rpc.call<{ types: number[] }>(PROC.authList, null, null, 'auth_list_ret', 15000);
      let authWords = 'none';
      if (auth.types.length && !auth.types.includes(AUTH.none)) {
        if (auth.types.includes(AUTH.polkit)) {
          const r = await rpc.call<{ complete: number }>(PROC.authPolkit, null, null, 'auth_polkit_ret', 30000);
          if (!r.complete) throw new Error(`${uri.uri}: polkit did not authorise this user to manage libvirt`);
          authWords = 'polkit';
        } else {
          throw new Error(`${uri.uri}: libvirtd asks for SASL authentication, which Ferry does not speak; use qemu+ssh (with a key) or qemu+tls (with a client certificate), or set auth_tcp/auth_tls to "none" or "polkit" in libvirtd.conf`);
        }
      }
      await rpc.call(PROC.connectOpen, 'connect_open_args', { name: remoteName(uri), flags: 0 }, null, 30000);
      // Tell the daemon this client answers keepalive PINGs (it then checks on us too).
      await rpc.call(PROC.connectSupportsFeature, 'connect_supports_feature_args', { feature: FEATURE_PROGRAM_KEEPALIVE }, 'connect_supports_feature_ret').catch(() => null);
      const [hostname, lib, hv] = await Promise.all([
        rpc.call<{ hostname: string }>(PROC.connectGetHostname, null, null, 'connect_get_hostname_ret'),
        rpc.call<{ lib_ver: number }>(PROC.connectGetLibVersion, null, null, 'connect_get_lib_version_ret'),
        rpc.call<{ hv_ver: number }>(PROC.connectGetVersion, null, null, 'connect_get_version_ret'),
      ]);
      const transportAuth = authWords === 'none' ? t.auth : `${t.auth}; libvirt ${authWords}`;
      return new LibvirtClient(uri, rpc, {
        auth: transportAuth, hostname: hostname.hostname, libvirtVersion: versionText(lib.lib_ver), hypervisorVersion: versionText(hv.hv_ver), hostKey: t.hostKey,
      });
    } catch (e) {
      rpc.close();
      throw e;
    }
  }

  get closed(): boolean {
    return this.rpc.closed;
  }

  onClose(l: (reason: string) => void): void {
    this.rpc.onClose(l);
  }

  close(): void {
    if (this.rpc.closed) return;
    void this.rpc.call(PROC.connectClose, null, null, null, 2000).catch(() => {}).finally(() => this.rpc.close());
  }

  async nodeInfo(): Promise<NodeInfo> {
    const r = await this.rpc.call<{ model: number[]; memory: number; cpus: number; mhz: number; nodes: number; sockets: number; cores: number; threads: number }>(PROC.nodeGetInfo, null, null, 'node_get_info_ret');
    return { model: charsToString(r.model), memoryKiB: r.memory, cpus: r.cpus, mhz: r.mhz, nodes: r.nodes, sockets: r.sockets, cores: r.cores, threads: r.threads };
  }

  async freeMemoryBytes(): Promise<number> {
    return (await this.rpc.call<{ freeMem: number }>(PROC.nodeGetFreeMemory, null, null, 'node_get_free_memory_ret')).freeMem;
  }

  async capabilities(): Promise<string> {
    return (await this.rpc.call<{ capabilities: string }>(PROC.connectGetCapabilities, null, null, 'connect_get_capabilities_ret')).capabilities;
  }

  async domainCapabilities(machine: string | null, arch: string | null): Promise<string> {
    return (await this.rpc.call<{ capabilities: string }>(PROC.connectGetDomainCapabilities, 'connect_get_domain_capabilities_args', { emulatorbin: null, arch, machine, virttype: null, flags: 0 }, 'connect_get_domain_capabilities_ret')).capabilities;
  }

  /** Running domains (ACTIVE); pass 0 for defined ones too. */
  async listDomains(flags = LIST_DOMAINS_ACTIVE): Promise<Domain[]> {
    return (await this.rpc.call<{ domains: Domain[] }>(PROC.connectListAllDomains, 'connect_list_all_domains_args', { need_results: 1, flags }, 'connect_list_all_domains_ret')).domains;
  }

  async lookup(name: string): Promise<Domain> {
    return (await this.rpc.call<{ dom: Domain }>(PROC.domainLookupByName, 'domain_lookup_by_name_args', { name }, 'domain_ret')).dom;
  }

  async domainInfo(dom: Domain): Promise<DomainInfo> {
    const r = await this.rpc.call<{ state: number; maxMem: number; memory: number; nrVirtCpu: number; cpuTime: number }>(PROC.domainGetInfo, 'domain_args', { dom }, 'domain_get_info_ret');
    return { state: r.state, maxMemKiB: r.maxMem, memoryKiB: r.memory, vcpus: r.nrVirtCpu, cpuTimeNs: r.cpuTime };
  }

  /** The domain's state and why it is in it (virDomainGetState: RUNNING_REASON for a running one). */
  async domainState(dom: Domain): Promise<{ state: number; reason: number }> {
    return this.rpc.call<{ state: number; reason: number }>(PROC.domainGetState, 'domain_flags_args', { dom, flags: 0 }, 'domain_get_state_ret');
  }

  async domainXml(dom: Domain, flags = 0): Promise<string> {
    return (await this.rpc.call<{ xml: string }>(PROC.domainGetXmlDesc, 'domain_flags_args', { dom, flags }, 'domain_get_xml_desc_ret')).xml;
  }

  async jobStats(dom: Domain, flags = 0): Promise<JobStats> {
    const r = await this.rpc.call<{ type: number; params: TypedParam[] }>(PROC.domainGetJobStats, 'domain_flags_args', { dom, flags }, 'domain_get_job_stats_ret');
    return { type: JOB_TYPE[r.type] ?? 'none', stats: paramsToRecord(r.params) };
  }

  abortJob(dom: Domain): Promise<void> {
    return this.rpc.call(PROC.domainAbortJob, 'domain_args', { dom }, null);
  }

  startPostcopy(dom: Domain): Promise<void> {
    return this.rpc.call(PROC.domainMigrateStartPostCopy, 'domain_flags_args', { dom, flags: 0 }, null);
  }

  setMaxDowntime(dom: Domain, ms: number): Promise<void> {
    return this.rpc.call(PROC.domainMigrateSetMaxDowntime, 'domain_migrate_set_max_downtime_args', { dom, downtime: ms, flags: 0 }, null);
  }

  /** MiB/s. */
  setMaxSpeed(dom: Domain, mibps: number): Promise<void> {
    return this.rpc.call(PROC.domainMigrateSetMaxSpeed, 'domain_migrate_set_max_speed_args', { dom, bandwidth: mibps, flags: 0 }, null);
  }

  /**
   * Peer-to-peer migration to `destUri` (as the source daemon reaches the destination).
   * Resolves when libvirt reports the migration finished; rejects with libvirt's reason.
   */
  migrateP2P(dom: Domain, destUri: string, params: TypedParam[], flags: number): Promise<void> {
    return this.rpc.call(PROC.domainMigratePerform3Params, 'domain_migrate_perform3_params_args', { dom, dconnuri: destUri, params, cookie_in: Buffer.alloc(0), flags }, 'domain_migrate_perform3_params_ret', 0).then(() => undefined);
  }

  /** libvirt's dirty-rate calculation over `seconds`, then its result from the domain stats, MiB/s. */
  async measureDirtyRate(dom: Domain, seconds = 1): Promise<number> {
    await this.rpc.call(PROC.domainStartDirtyRateCalc, 'domain_start_dirty_rate_calc_args', { dom, seconds, flags: 0 }, null);
    const end = Date.now() + seconds * 1000 + 8000;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    while (Date.now() < end) {
      const s = await this.domainStats(dom, STATS_DIRTYRATE);
      // calc_status: 0 unstarted, 1 measuring, 2 measured
      if (s['dirtyrate.calc_status'] === 2 && typeof s['dirtyrate.megabytes_per_second'] === 'number') return s['dirtyrate.megabytes_per_second'];
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`libvirt's dirty-rate calculation for ${dom.name} did not finish in ${seconds + 8} s`);
  }

  async domainStats(dom: Domain, stats: number): Promise<Record<string, TypedValue>> {
    const r = await this.rpc.call<{ retStats: { dom: Domain; params: TypedParam[] }[] }>(PROC.connectGetAllDomainStats, 'connect_get_all_domain_stats_args', { doms: [dom], stats, flags: 0 }, 'connect_get_all_domain_stats_ret');
    return paramsToRecord(r.retStats[0]?.params ?? []);
  }

  /** Whether one of the daemon's storage pools holds a volume at this path. */
  async volumeExists(path: string): Promise<boolean> {
    try {
      await this.rpc.call(PROC.storageVolLookupByPath, 'storage_vol_lookup_by_path_args', { path }, 'storage_vol_lookup_by_path_ret');
      return true;
    } catch (e) {
      if (e instanceof LibvirtError) return false; // no such volume (or no storage driver there)
      throw e;
    }
  }

  /** virConnectCompareHypervisorCPU: -1 error, 0 incompatible, 1 identical, 2 superset. */
  async compareCpu(cpuXml: string, arch: string | null, machine: string | null, virttype: string | null): Promise<number> {
    return (await this.rpc.call<{ result: number }>(PROC.connectCompareHypervisorCpu, 'connect_compare_hypervisor_cpu_args', { emulator: null, arch, machine, virttype, xmlCPU: cpuXml, flags: 0 }, 'connect_compare_hypervisor_cpu_ret')).result;
  }

  /** Registers for one kind of domain event on all domains; returns the callback id. */
  async registerEvent(eventId: number): Promise<number> {
    return (await this.rpc.call<{ callbackID: number }>(PROC.connectDomainEventCallbackRegisterAny, 'connect_domain_event_callback_register_any_args', { eventID: eventId, dom: null }, 'connect_domain_event_callback_register_any_ret')).callbackID;
  }

  onLifecycle(l: (e: { dom: Domain; event: number; detail: number }) => void): void {
    this.rpc.onEvent(PROC.domainEventCallbackLifecycle, (p) => {
      const m = decode<{ msg: { dom: Domain; event: number; detail: number } }>('domain_event_callback_lifecycle_msg', p);
      l(m.msg);
    });
  }

  onMigrationIteration(l: (e: { dom: Domain; iteration: number }) => void): void {
    this.rpc.onEvent(PROC.domainEventCallbackMigrationIteration, (p) => l(decode('domain_event_callback_migration_iteration_msg', p)));
  }

  onJobCompleted(l: (e: { dom: Domain; stats: Record<string, TypedValue> }) => void): void {
    this.rpc.onEvent(PROC.domainEventCallbackJobCompleted, (p) => {
      const m = decode<{ dom: Domain; params: TypedParam[] }>('domain_event_callback_job_completed_msg', p);
      l({ dom: m.dom, stats: paramsToRecord(m.params) });
    });
  }

  /** Subscribes to lifecycle, migration-iteration and job-completed events. */
  async subscribe(): Promise<void> {
    await Promise.all([this.registerEvent(EVENT_ID.lifecycle), this.registerEvent(EVENT_ID.migrationIteration), this.registerEvent(EVENT_ID.jobCompleted)]);
  }
}

export { LibvirtError };
