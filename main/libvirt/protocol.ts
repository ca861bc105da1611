/// <reference path="./js-xdr.d.ts" />
// libvirt's remote protocol, the part Ferry speaks: the message header, errors, typed
// parameters and the procedures the libvirt driver calls, written from the protocol's
// documentation (libvirt's remote_protocol.x, virnetprotocol.x, virkeepaliveprotocol.x).
// The XDR encoding itself is @stellar/js-xdr's (RFC 4506); this file only declares the
// shapes and converts between the codec's objects and plain ones.
import * as X from '@stellar/js-xdr';

/** REMOTE_PROGRAM and its version: every call Ferry makes. */
export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
/** The keepalive program ("keep" in ASCII): PING and PONG, no payload. */
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_VERSION = 1;
export const KEEPALIVE_PING = 1;
export const KEEPALIVE_PONG = 2;

/** virNetMessageType */
export const MSG = { call: 0, reply: 1, message: 2, stream: 3, callWithFds: 4, replyWithFds: 5, streamHole: 6 } as const;
/** virNetMessageStatus */
export const STATUS = { ok: 0, error: 1, continue: 2 } as const;
/** The largest message libvirt 9 accepts or sends (VIR_NET_MESSAGE_MAX), and the 4-byte length word. */
export const MESSAGE_MAX = 32 * 1024 * 1024;
export const HEADER_BYTES = 24;

/** Procedure numbers (remote_procedure), the ones Ferry calls or receives. */
export const PROC = {
  connectOpen: 1,
  connectClose: 2,
  connectGetType: 3,
  connectGetVersion: 4,
  nodeGetInfo: 6,
  connectGetCapabilities: 7,
  domainGetXmlDesc: 14,
  domainGetInfo: 16,
  domainLookupByName: 23,
  domainLookupByUuid: 24,
  connectGetHostname: 59,
  connectSupportsFeature: 60,
  authList: 66,
  authPolkit: 70,
  storageVolLookupByPath: 97,
  nodeGetFreeMemory: 102,
  connectGetLibVersion: 157,
  domainAbortJob: 164,
  domainMigrateSetMaxDowntime: 166,
  domainMigrateSetMaxSpeed: 207,
  domainGetState: 212,
  connectListAllDomains: 273,
  domainGetJobStats: 298,
  domainMigratePerform3Params: 305,
  connectDomainEventCallbackRegisterAny: 316,
  connectDomainEventCallbackDeregisterAny: 317,
  domainEventCallbackLifecycle: 318,
  connectGetDomainCapabilities: 342,
  connectGetAllDomainStats: 344,
  domainEventCallbackMigrationIteration: 359,
  connectEventConnectionClosed: 362,
  domainEventCallbackJobCompleted: 363,
  domainMigrateStartPostCopy: 364,
  connectCompareHypervisorCpu: 393,
  domainStartDirtyRateCalc: 427,
} as const;

/** remote_auth_type */
export const AUTH = { none: 0, sasl: 1, polkit: 2 } as const;

/** virTypedParameterType */
export const PARAM = { int: 1, uint: 2, llong: 3, ullong: 4, double: 5, boolean: 6, string: 7 } as const;

/** virDomainMigrateFlags */
export const MIGRATE = {
  live: 1 << 0,
  peer2peer: 1 << 1,
  tunnelled: 1 << 2,
  persistDest: 1 << 3,
  undefineSource: 1 << 4,
  paused: 1 << 5,
  nonSharedDisk: 1 << 6,
  nonSharedInc: 1 << 7,
  changeProtection: 1 << 8,
  unsafe: 1 << 9,
  offline: 1 << 10,
  compressed: 1 << 11,
  abortOnError: 1 << 12,
  autoConverge: 1 << 13,
  postcopy: 1 << 15,
  tls: 1 << 16,
} as const;

/** virDomainState */
/** virDomainRunningReason: why a running domain runs (the ones Ferry tells apart). */
export const RUNNING_REASON = { booted: 1, migrated: 2 } as const;
export const DOMAIN_STATE = ['no state', 'running', 'blocked', 'paused', 'shutting down', 'shut off', 'crashed', 'suspended by guest power management'] as const;
/** virDomainEventType (lifecycle events) */
export const LIFECYCLE = { defined: 0, undefined: 1, started: 2, suspended: 3, resumed: 4, stopped: 5, shutdown: 6, pmsuspended: 7, crashed: 8 } as const;
/** virDomainEventID */
export const EVENT_ID = { lifecycle: 0, migrationIteration: 20, jobCompleted: 21 } as const;
/** virDomainJobType */
export const JOB_TYPE = ['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled'] as const;
/** virDomainGetJobStatsFlags */
export const JOB_STATS_COMPLETED = 1 << 0;
export const JOB_STATS_KEEP_COMPLETED = 1 << 1;
/** virConnectListAllDomainsFlags */
export const LIST_DOMAINS_ACTIVE = 1 << 0;
/** virDomainStatsTypes */
export const STATS_STATE = 1 << 0;
export const STATS_DIRTYRATE = 1 << 9;
/** virCPUCompareResult */
export const CPU_COMPARE = { error: -1, incompatible: 0, identical: 1, superset: 2 } as const;
/** virDrvFeature: the client takes part in keepalive. */
export const FEATURE_PROGRAM_KEEPALIVE = 12;

const STRING_MAX = 4 * 1024 * 1024;
const LIST_MAX = 16384;
const PARAMS_MAX = 64;

/** The protocol's types, by their names in remote_protocol.x (without the remote_ prefix). */
const T = X.config((x) => {
  const str = () => x.lookup('nonnull_string');
  const optStr = () => x.lookup('string');
  const dom = () => x.lookup('nonnull_domain');
  const params = (max = PARAMS_MAX) => x.varArray(x.lookup('typed_param'), max);

  x.typedef('nonnull_string', x.string(STRING_MAX));
  x.typedef('string', x.option(x.lookup('nonnull_string')));
  x.struct('nonnull_domain', [['name', str()], ['uuid', x.opaque(16)], ['id', x.int()]]);
  x.struct('nonnull_network', [['name', str()], ['uuid', x.opaque(16)]]);
  x.struct('header', [['prog', x.uint()], ['vers', x.uint()], ['proc', x.int()], ['type', x.int()], ['serial', x.uint()], ['status', x.int()]]);
  x.struct('error', [
    ['code', x.int()], ['domain', x.int()], ['message', optStr()], ['level', x.int()], ['dom', x.option(dom())],
    ['str1', optStr()], ['str2', optStr()], ['str3', optStr()], ['int1', x.int()], ['int2', x.int()], ['net', x.option(x.lookup('nonnull_network'))],
  ]);
  x.union('typed_param_value', {
    switchOn: x.int(),
    switches: [[PARAM.int, 'i'], [PARAM.uint, 'ui'], [PARAM.llong, 'l'], [PARAM.ullong, 'ul'], [PARAM.double, 'd'], [PARAM.boolean, 'b'], [PARAM.string, 's']],
    arms: { i: x.int(), ui: x.uint(), l: x.hyper(), ul: x.uhyper(), d: x.double(), b: x.int(), s: str() },
  });
  x.struct('typed_param', [['field', str()], ['value', x.lookup('typed_param_value')]]);

  x.struct('connect_open_args', [['name', optStr()], ['flags', x.uint()]]);
  x.struct('connect_supports_feature_args', [['feature', x.int()]]);
  x.struct('connect_supports_feature_ret', [['supported', x.int()]]);
  x.struct('connect_get_type_ret', [['type', str()]]);
  x.struct('connect_get_version_ret', [['hv_ver', x.uhyper()]]);
  x.struct('connect_get_lib_version_ret', [['lib_ver', x.uhyper()]]);
  x.struct('connect_get_hostname_ret', [['hostname', str()]]);
  x.struct('connect_get_capabilities_ret', [['capabilities', str()]]);
  // `char model[32]`: rpcgen sends each char as a 4-byte int.
  x.struct('node_get_info_ret', [
    ['model', x.array(x.int(), 32)], ['memory', x.uhyper()], ['cpus', x.int()], ['mhz', x.int()], ['nodes', x.int()],
    ['sockets', x.int()], ['cores', x.int()], ['threads', x.int()],
  ]);
  x.struct('node_get_free_memory_ret', [['freeMem', x.uhyper()]]);
  x.struct('auth_list_ret', [['types', x.varArray(x.int(), 20)]]);
  x.struct('auth_polkit_ret', [['complete', x.int()]]);

  x.struct('connect_list_all_domains_args', [['need_results', x.int()], ['flags', x.uint()]]);
  x.struct('connect_list_all_domains_ret', [['domains', x.varArray(dom(), LIST_MAX)], ['ret', x.uint()]]);
  x.struct('domain_args', [['dom', dom()]]);
  x.struct('domain_flags_args', [['dom', dom()], ['flags', x.uint()]]);
  x.struct('domain_lookup_by_name_args', [['name', str()]]);
  x.struct('domain_ret', [['dom', dom()]]);
  // unsigned char state and unsigned short nrVirtCpu travel as 4-byte unsigned ints.
  x.struct('domain_get_info_ret', [['state', x.uint()], ['maxMem', x.uhyper()], ['memory', x.uhyper()], ['nrVirtCpu', x.uint()], ['cpuTime', x.uhyper()]]);
  x.struct('domain_get_state_ret', [['state', x.int()], ['reason', x.int()]]);
  x.struct('domain_get_xml_desc_ret', [['xml', str()]]);
  x.struct('domain_get_job_stats_ret', [['type', x.int()], ['params', params()]]);
  x.struct('domain_migrate_set_max_downtime_args', [['dom', dom()], ['downtime', x.uhyper()], ['flags', x.uint()]]);
  x.struct('domain_migrate_set_max_speed_args', [['dom', dom()], ['bandwidth', x.uhyper()], ['flags', x.uint()]]);
  x.struct('domain_migrate_perform3_params_args', [
    ['dom', dom()], ['dconnuri', optStr()], ['params', params()], ['cookie_in', x.varOpaque(STRING_MAX)], ['flags', x.uint()],
  ]);
  x.struct('domain_migrate_perform3_params_ret', [['cookie_out', x.varOpaque(STRING_MAX)]]);
  x.struct('domain_start_dirty_rate_calc_args', [['dom', dom()], ['seconds', x.int()], ['flags', x.uint()]]);
  x.struct('domain_stats_record', [['dom', dom()], ['params', params(262144)]]);
  x.struct('connect_get_all_domain_stats_args', [['doms', x.varArray(dom(), LIST_MAX)], ['stats', x.uint()], ['flags', x.uint()]]);
  x.struct('connect_get_all_domain_stats_ret', [['retStats', x.varArray(x.lookup('domain_stats_record'), LIST_MAX)]]);
  x.struct('connect_compare_hypervisor_cpu_args', [
    ['emulator', optStr()], ['arch', optStr()], ['machine', optStr()], ['virttype', optStr()], ['xmlCPU', str()], ['flags', x.uint()],
  ]);
  x.struct('connect_compare_hypervisor_cpu_ret', [['result', x.int()]]);
  x.struct('connect_get_domain_capabilities_args', [['emulatorbin', optStr()], ['arch', optStr()], ['machine', optStr()], ['virttype', optStr()], ['flags', x.uint()]]);
  x.struct('connect_get_domain_capabilities_ret', [['capabilities', str()]]);

  x.struct('storage_vol_lookup_by_path_args', [['path', str()]]);
  x.struct('nonnull_storage_vol', [['pool', str()], ['name', str()], ['key', str()]]);
  x.struct('storage_vol_lookup_by_path_ret', [['vol', x.lookup('nonnull_storage_vol')]]);
  x.struct('connect_domain_event_callback_register_any_args', [['eventID', x.int()], ['dom', x.option(dom())]]);
  x.struct('connect_domain_event_callback_register_any_ret', [['callbackID', x.int()]]);
  x.struct('connect_domain_event_callback_deregister_any_args', [['callbackID', x.int()]]);
  x.struct('domain_event_lifecycle_msg', [['dom', dom()], ['event', x.int()], ['detail', x.int()]]);
  x.struct('domain_event_callback_lifecycle_msg', [['callbackID', x.int()], ['msg', x.lookup('domain_event_lifecycle_msg')]]);
  x.struct('domain_event_callback_migration_iteration_msg', [['callbackID', x.int()], ['dom', dom()], ['iteration', x.int()]]);
  x.struct('domain_event_callback_job_completed_msg', [['callbackID', x.int()], ['dom', dom()], ['params', params()]]);
  x.struct('connect_event_connection_closed_msg', [['reason', x.int()]]);
});

export type TypeName = keyof typeof T & string;

export interface Domain {
  name: string;
  uuid: Buffer;
  id: number;
}

export interface Header {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

export interface RemoteError {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
}

export type TypedValue = number | string | boolean;
export interface TypedParam {
  field: string;
  value: { type: number; value: number | string };
}

function isClass(t: unknown, base: unknown): boolean {
  return typeof t === 'function' && (t === base || (t as { prototype: unknown }).prototype instanceof (base as new () => unknown));
}

/** Plain value -> the codec's object for `type`. */
function toXdr(type: X.XdrType, v: unknown): unknown {
  if (type === X.Hyper || type === X.UnsignedHyper) return typeof v === 'bigint' ? v : BigInt(Math.round(Number(v ?? 0)));
  if (type === X.Int || type === X.UnsignedInt || type === X.Double || type === X.Bool) return v ?? 0;
  if (type instanceof X.String) return v ?? '';
  if (type instanceof X.Opaque || type instanceof X.VarOpaque) return v ?? Buffer.alloc(0);
  if (type instanceof X.Option) return v === null || v === undefined ? undefined : toXdr(type._childType, v);
  if (type instanceof X.Array || type instanceof X.VarArray) return ((v as unknown[]) ?? []).map((c) => toXdr(type._childType, c));
  if (isClass(type, X.Struct)) {
    const o = (v ?? {}) as Record<string, unknown>;
    return new type(Object.fromEntries((type._fields as [string, X.XdrType][]).map(([n, t]) => [n, toXdr(t, o[n])])));
  }
  if (isClass(type, X.Union)) {
    const u = v as { type: number; value: unknown };
    const arm = type._switches.get(u.type);
    if (arm === undefined) throw new Error(`no arm for ${u.type} in ${type.unionName}`);
    return new type(u.type, toXdr(type._arms[arm], u.value));
  }
  throw new Error(`protocol.ts cannot encode ${String(type?.name ?? type)}`);
}

/** The codec's object -> plain value (strings as strings, hypers as numbers). */
function fromXdr(type: X.XdrType, v: any): unknown {
  if (type === X.Hyper || type === X.UnsignedHyper) return Number(v.toBigInt());
  if (type === X.Int || type === X.UnsignedInt || type === X.Double || type === X.Bool) return v;
  if (type instanceof X.String) return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  if (type instanceof X.Opaque || type instanceof X.VarOpaque) return v;
  if (type instanceof X.Option) return v === undefined || v === null ? null : fromXdr(type._childType, v);
  if (type instanceof X.Array || type instanceof X.VarArray) return (v as unknown[]).map((c) => fromXdr(type._childType, c));
  if (isClass(type, X.Struct)) {
    return Object.fromEntries((type._fields as [string, X.XdrType][]).map(([n, t]) => [n, fromXdr(t, v._attributes[n])]));
  }
  if (isClass(type, X.Union)) {
    const arm = type._switches.get(v.switch());
    return { type: v.switch(), value: fromXdr(type._arms[arm], v.value()) };
  }
  throw new Error(`protocol.ts cannot decode ${String(type?.name ?? type)}`);
}

export function encode(name: TypeName, value: unknown): Buffer {
  const type = T[name];
  return type.toXDR(toXdr(type, value)) as Buffer;
}

/** Decodes a whole buffer as `name` (the codec refuses trailing bytes). */
export function decode<R>(name: TypeName, buf: Buffer): R {
  const type = T[name];
  return fromXdr(type, type.fromXDR(buf)) as R;
}

/** Typed parameters -> { field: value } (booleans as booleans). */
export function paramsToRecord(params: TypedParam[]): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  for (const p of params) out[p.field] = p.value.type === PARAM.boolean ? p.value.value !== 0 : p.value.value;
  return out;
}

export const param = {
  ullong: (field: string, value: number): TypedParam => ({ field, value: { type: PARAM.ullong, value } }),
  int: (field: string, value: number): TypedParam => ({ field, value: { type: PARAM.int, value } }),
  string: (field: string, value: string): TypedParam => ({ field, value: { type: PARAM.string, value } }),
};

/** The model string of node_get_info (a char array sent as ints). */
export function charsToString(chars: number[]): string {
  const end = chars.indexOf(0);
  return Buffer.from((end < 0 ? chars : chars.slice(0, end)).map((c) => c & 0xff)).toString('latin1');
}
