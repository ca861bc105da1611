// Opens the byte stream a libvirt connection runs over: TCP, TLS (client certificate, CA
// checked), a unix socket, or SSH (ssh2: the user's agent or a key file, the host key
// checked against known_hosts; libvirtd's socket reached by streamlocal forwarding, or
// virt-ssh-helper where forwarding is off). Nothing here logs or stores a secret.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { Client as SshClient, type ConnectConfig } from 'ssh2';
import { DEFAULT_SOCKET, type LibvirtUri } from './uri';

export interface TransportOptions {
  /** Extra known_hosts files Ferry keeps (its own, for keys the user accepted in Ferry). */
  knownHosts?: string[];
  /** A host key fingerprint ("SHA256:...") the user accepted for this connection only. */
  trustFingerprint?: string;
  connectTimeoutMs?: number;
}

export interface OpenedTransport {
  stream: Duplex;
  /** How the connection authenticated at the transport level, in words. */
  auth: string;
  /** SSH only: the server's host key, for the user to compare and accept. */
  hostKey?: HostKeyInfo;
  close(): void;
}

export interface HostKeyInfo {
  type: string;
  fingerprint: string;
  /** A known_hosts line for it ("host ssh-ed25519 AAAA..."). */
  line: string;
}

/** A host key that known_hosts does not vouch for. The message shows the fingerprint to compare. */
export class HostKeyError extends Error {
  constructor(
    message: string,
    readonly hostKey: HostKeyInfo,
    readonly changed: boolean,
  ) {
    super(message);
  }
}

export async function openTransport(u: LibvirtUri, opts: TransportOptions = {}): Promise<OpenedTransport> {
  const timeout = opts.connectTimeoutMs ?? 10000;
  if (u.transport === 'unix') {
    const socket = u.params.socket || DEFAULT_SOCKET;
    const s = await connectSocket(() => net.connect(socket), timeout, `libvirt socket ${socket}`);
    return { stream: s, auth: 'unix socket', close: () => s.destroy() };
  }
  if (u.transport === 'tcp') {
    const s = await connectSocket(() => net.connect(u.port, u.host!), timeout, `${u.host}:${u.port}`);
    return { stream: s, auth: 'plain TCP (no encryption)', close: () => s.destroy() };
  }
  if (u.transport === 'tls') return openTls(u, timeout);
  return openSsh(u, opts, timeout);
}

function connectSocket<S extends net.Socket>(make: () => S, timeoutMs: number, what: string): Promise<S> {
  return new Promise((resolve, reject) => {
    const s = make();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from ${what} within ${Math.round(timeoutMs / 1000)} s (is the host up and libvirtd listening there?)`));
    }, timeoutMs);
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(socketWords(e, what)));
    });
    s.once(s instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

function socketWords(e: NodeJS.ErrnoException, what: string): string {
  if (e.code === 'ECONNREFUSED') return `${what} refused the connection: libvirtd is not listening there (for TCP/TLS it needs --listen or the libvirtd-tcp/-tls socket)`;
  if (e.code === 'ENOENT') return `${what} does not exist: is libvirtd running on this machine?`;
  if (e.code === 'EACCES') return `no permission to open ${what} (join the libvirt group, or connect as root)`;
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return `${what} is unreachable from this machine (${e.code})`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `${what}: the host name does not resolve`;
  return `${what}: ${e.message}`;
}

/** Client certificate and CA as libvirt lays them out (pkipath, else ~/.pki/libvirt, else /etc/pki). */
function tlsFiles(u: LibvirtUri): { ca: string; cert: string; key: string } {
  const dirs = u.params.pkipath ? [u.params.pkipath] : [path.join(os.homedir(), '.pki', 'libvirt')];
  const pick = (name: string, fallback: string) => {
    for (const d of dirs) {
      const p = path.join(d, name);
      if (fs.existsSync(p)) return p;
    }
    return fallback;
  };
  return {
    ca: pick('cacert.pem', '/etc/pki/CA/cacert.pem'),
    cert: pick('clientcert.pem', '/etc/pki/libvirt/clientcert.pem'),
    key: pick('clientkey.pem', '/etc/pki/libvirt/private/clientkey.pem'),
  };
}

async function openTls(u: LibvirtUri, timeout: number): Promise<OpenedTransport> {
  const f = tlsFiles(u);
  const read = (what: string, p: string) => {
    try {
      return fs.readFileSync(p);
    } catch {
      throw new Error(`qemu+tls needs the ${what} at ${p} (or ?pkipath=DIR holding cacert.pem, clientcert.pem, clientkey.pem)`);
    }
  };
  const opts: tls.ConnectionOptions = {
    host: u.host!, port: u.port, servername: net.isIP(u.host!) ? undefined : u.host!,
    ca: read('CA certificate', f.ca), cert: read('client certificate', f.cert), key: read('client key', f.key),
    rejectUnauthorized: u.params.no_verify !== '1',
  };
  let s: tls.TLSSocket;
  try {
    s = await connectSocket(() => tls.connect(opts), timeout, `${u.host}:${u.port} (TLS)`);
  } catch (e) {
    const m = (e as Error).message;
    if (/self.signed|unable to verify|certificate|altnames/i.test(m)) throw new Error(`${u.host}:${u.port}: its TLS certificate does not check out against the CA in ${f.ca} (${m})`);
    throw e;
  }
  await tlsCheckByte(s, `${u.host}:${u.port}`, timeout);
  return { stream: s, auth: `TLS client certificate ${path.basename(f.cert)}${opts.rejectUnauthorized ? ', server checked against the CA' : ', server NOT verified (no_verify=1)'}`, close: () => s.destroy() };
}

/**
 * After the handshake libvirtd sends one byte: 1 when it accepted our client certificate
 * (its issuer, and the DN if the host restricts them), anything else when it did not.
 */
function tlsCheckByte(s: tls.TLSSocket, where: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`${where} accepted the TLS connection but never said whether it accepts our client certificate`));
    }, timeoutMs);
    s.once('data', (b: Buffer) => {
      clearTimeout(timer);
      s.pause();
      if (b[0] !== 1) {
        s.destroy();
        return reject(new Error(`${where} refused our TLS client certificate (is it signed by the CA the host trusts, and its name in the host's tls_allowed_dn_list?)`));
      }
      if (b.length > 1) s.unshift(b.subarray(1));
      resolve();
    });
    s.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`${where} closed the TLS connection: it refused our client certificate, or is not libvirtd`));
    });
  });
}

// ---- SSH ----

/** The key blob's fingerprint as OpenSSH prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function keyType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** known_hosts names a host as "host" on port 22, else "[host]:port". */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hostMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const h = crypto.createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  return pattern.split(',').some((p) => p.toLowerCase() === name.toLowerCase());
}

/** What known_hosts files say of this host: the key blobs they list for it. */
export function knownKeys(files: string[], host: string, port: number): Buffer[] {
  const name = knownHostsName(host, port);
  const out: Buffer[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const l = line.trim();
      if (!l || l.startsWith('#') || l.startsWith('@revoked')) continue;
      const parts = l.split(/\s+/);
      const [hosts, , b64] = parts[0]!.startsWith('@') ? parts.slice(1) : parts;
      if (hosts && b64 && hostMatches(hosts, name)) out.push(Buffer.from(b64, 'base64'));
    }
  }
  return out;
}

export function knownHostsFiles(u: LibvirtUri, extra: string[] = []): string[] {
  if (u.params.known_hosts) return [u.params.known_hosts, ...extra];
  return [path.join(os.homedir(), '.ssh', 'known_hosts'), ...extra];
}

function sshAuth(u: LibvirtUri): { config: Partial<ConnectConfig>; words: string } {
  if (u.params.keyfile) {
    let key: Buffer;
    try {
      key = fs.readFileSync(u.params.keyfile);
    } catch {
      throw new Error(`the SSH key file ${u.params.keyfile} cannot be read`);
    }
    return { config: { privateKey: key }, words: `SSH key ${u.params.keyfile}` };
  }
  if (process.env.SSH_AUTH_SOCK) return { config: { agent: process.env.SSH_AUTH_SOCK }, words: 'SSH agent' };
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const p = path.join(os.homedir(), '.ssh', name);
    if (fs.existsSync(p)) return { config: { privateKey: fs.readFileSync(p) }, words: `SSH key ~/.ssh/${name}` };
  }
  throw new Error(`no SSH credentials for ${u.host}: start an ssh-agent with your key, or add ?keyfile=/path/to/key to the URI`);
}

async function openSsh(u: LibvirtUri, opts: TransportOptions, timeout: number): Promise<OpenedTransport> {
  const { config, words } = sshAuth(u);
  const files = knownHostsFiles(u, opts.knownHosts);
  let seen: HostKeyInfo | undefined;
  let refusal: HostKeyError | null = null;
  const client = new SshClient();
  const user = u.user ?? os.userInfo().username;
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (e: Error & { level?: string }) => {
      if (refusal) return reject(refusal);
      if (e.level === 'client-authentication') return reject(new Error(`${user}@${u.host} refused ${words} (is its public key in ~${user}/.ssh/authorized_keys there?)`));
      if (e.level === 'client-timeout') return reject(new Error(`no SSH answer from ${u.host}:${u.port} within ${Math.round(timeout / 1000)} s`));
      reject(new Error(socketWords(e as NodeJS.ErrnoException, `${u.host}:${u.port} (SSH)`)));
    });
    client.connect({
      host: u.host!, port: u.port, username: user, readyTimeout: timeout, keepaliveInterval: 10000, ...config,
      hostVerifier: (blob: Buffer) => {
        const type = keyType(blob);
        seen = { type, fingerprint: fingerprintOf(blob), line: `${knownHostsName(u.host!, u.port)} ${type} ${blob.toString('base64')}` };
        const known = knownKeys(files, u.host!, u.port);
        if (known.some((k) => k.equals(blob))) return true;
        const name = knownHostsName(u.host!, u.port);
        if (known.length) {
          refusal = new HostKeyError(`the SSH host key of ${name} CHANGED: it is now ${type} ${seen.fingerprint}, which ${files.join(' or ')} do not list. This may be an attack; if the host was reinstalled, remove its old line from known_hosts and add it again.`, seen, true);
          return false;
        }
        if (opts.trustFingerprint && opts.trustFingerprint === seen.fingerprint) return true;
        refusal = new HostKeyError(`the SSH host key of ${name} is not known: ${type} ${seen.fingerprint}. Compare it with the host's (ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-.*/, 'ecdsa')}_key.pub on the host) and accept it with --accept-host-key ${seen.fingerprint}`, seen, false);
        return false;
      },
    });
  });
  const socket = u.params.socket || (u.path === 'session' ? null : DEFAULT_SOCKET);
  let stream: Duplex;
  let via: string;
  try {
    if (!socket) throw new Error('session daemons are reached through virt-ssh-helper');
    stream = await new Promise<Duplex>((resolve, reject) => client.openssh_forwardOutStreamLocal(socket, (err, ch) => (err ? reject(err) : resolve(ch))));
    via = `forwarded to ${socket}`;
  } catch {
    // Streamlocal forwarding may be off on the host (AllowStreamLocalForwarding no): let
    // libvirt's own helper carry the stream over the session's stdin/stdout instead.
    stream = await new Promise<Duplex>((resolve, reject) =>
      client.exec(`virt-ssh-helper qemu:///${u.path}`, (err, ch) => (err ? reject(new Error(`${u.host}: neither socket forwarding nor virt-ssh-helper worked: ${err.message}`)) : resolve(ch))),
    );
    via = 'through virt-ssh-helper';
  }
  stream.once('close', () => client.end());
  return { stream, auth: `${words} as ${user}, host key ${seen?.fingerprint ?? '?'}, ${via}`, hostKey: seen, close: () => client.end() };
}
