// libvirt connection URIs as staff write them (qemu+ssh://root@kvm-07/system), parsed and
// checked before anything connects. Only paths to keys and certificates ever appear in
// one: a URI with a password is refused, so none reaches the database or a log.

export type Transport = 'tcp' | 'tls' | 'unix' | 'ssh';

export interface LibvirtUri {
  /** The URI as given, normalised (no trailing slash differences). */
  uri: string;
  transport: Transport;
  /** The hypervisor driver name libvirtd serves: "qemu". */
  driver: string;
  /** "system" or "session". */
  path: string;
  user: string | null;
  host: string | null;
  port: number;
  /** Query parameters (socket, keyfile, known_hosts, pkipath, no_verify...). */
  params: Record<string, string>;
}

export const DEFAULT_PORT: Record<Transport, number> = { tcp: 16509, tls: 16514, ssh: 22, unix: 0 };
export const DEFAULT_SOCKET = '/var/run/libvirt/libvirt-sock';
const KNOWN_PARAMS = new Set(['socket', 'keyfile', 'known_hosts', 'pkipath', 'no_verify', 'name', 'command', 'netcat', 'no_tty', 'sshauth', 'mode', 'proxy']);

/**
 * A URI as it may be shown in an error: a password after `user:` and the values of
 * password-like parameters replaced, so a refusal never echoes the secret it refused.
 */
export function redactUri(raw: string): string {
  return raw
    .replace(/(\/\/[^/@?#:]*):[^/@?#]*@/, '$1:***@')
    .replace(/([?&](?:password|passphrase|passwd|secret|token)=)[^&#]*/gi, '$1***');
}

/** Parses a libvirt URI, or throws a message that says what is wrong with it (never echoing a password). */
export function parseLibvirtUri(input: string): LibvirtUri {
  const raw = redactUri(input);
  const text = input.trim();
  const m = /^([a-z][a-z0-9]*)(?:\+([a-z0-9]+))?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(text);
  if (!m) throw new Error(`"${raw}" is not a libvirt URI; write it as qemu+ssh://user@host/system, qemu+tls://host/system, qemu+tcp://host/system or qemu+unix:///system`);
  const driver = m[1]!.toLowerCase();
  if (driver !== 'qemu') throw new Error(`${raw}: Ferry migrates QEMU/KVM guests; the URI must start with qemu+ (it starts with ${driver})`);
  const authority = m[3] ?? '';
  const transport = (m[2]?.toLowerCase() ?? (authority ? 'tls' : 'unix')) as Transport;
  if (!['tcp', 'tls', 'unix', 'ssh'].includes(transport)) {
    throw new Error(`${raw}: transport "${m[2]}" is not supported; use ssh, tls, tcp or unix (libssh and ext are not)`);
  }
  const path = (m[4] ?? '/system').replace(/^\/+|\/+$/g, '') || 'system';
  if (path !== 'system' && path !== 'session') throw new Error(`${raw}: the path must be /system or /session, not /${path}`);
  let user: string | null = null;
  let hostPort = authority;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    user = decodeURIComponent(authority.slice(0, at));
    hostPort = authority.slice(at + 1);
    if (user.includes(':')) throw new Error(`${raw}: Ferry does not take passwords in URIs (they would end up in its database); use an SSH key or agent, or a TLS client certificate`);
  }
  let host: string | null = null;
  let port = DEFAULT_PORT[transport];
  if (hostPort) {
    const hm = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(hostPort);
    if (!hm) throw new Error(`${raw}: "${hostPort}" is not a host[:port]`);
    host = hm[1]!.replace(/^\[|\]$/g, '');
    if (hm[2]) {
      port = Number(hm[2]);
      if (!(port > 0 && port < 65536)) throw new Error(`${raw}: port ${hm[2]} is out of range`);
    }
  }
  if (transport === 'unix' && host) throw new Error(`${raw}: a qemu+unix URI names no host (qemu+unix:///system?socket=/path)`);
  if (transport !== 'unix' && !host) throw new Error(`${raw}: qemu+${transport} needs a host (qemu+${transport}://host/system)`);
  if (transport !== 'ssh' && user) throw new Error(`${raw}: a user name only applies to qemu+ssh`);
  const params: Record<string, string> = {};
  for (const part of (m[5] ?? '').split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (k === 'password' || k === 'passphrase') throw new Error(`${raw}: no secrets in URIs (they would end up in Ferry's host list); use an SSH key or agent, or a TLS client certificate`);
    if (!KNOWN_PARAMS.has(k)) throw new Error(`${raw}: unknown parameter "${k}" (Ferry knows ${[...KNOWN_PARAMS].join(', ')})`);
    params[k] = v;
  }
  const hostText = host ? (host.includes(':') ? `[${host}]` : host) : '';
  const auth = user ? `${encodeURIComponent(user)}@` : '';
  const portText = host && port !== DEFAULT_PORT[transport] ? `:${port}` : '';
  const query = Object.keys(params).length ? `?${Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '';
  return { uri: `qemu+${transport}://${auth}${hostText}${portText}/${path}${query}`, transport, driver, path, user, host, port, params };
}

/** The name libvirtd is asked to open (the URI without transport and host): "qemu:///system". */
export function remoteName(u: LibvirtUri): string {
  return `${u.driver}:///${u.path}`;
}

/** The URI one daemon uses to reach the other for a peer-to-peer migration (never through SSH from the daemon). */
export function peerUri(u: LibvirtUri): string {
  if (u.transport === 'unix' || !u.host) return `${u.driver}:///${u.path}`;
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  if (u.transport === 'ssh') return `${u.driver}+ssh://${u.user ? `${u.user}@` : ''}${host}${u.port !== 22 ? `:${u.port}` : ''}/${u.path}`;
  return `${u.driver}+${u.transport}://${host}${u.port !== DEFAULT_PORT[u.transport] ? `:${u.port}` : ''}/${u.path}`;
}
