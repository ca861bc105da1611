// The libvirt hosts the user added (`ferry hosts add <uri>`), kept in the data directory
// as libvirt-hosts.json: names, URIs and paths to keys only. A URI with a password is
// refused by the parser, so no secret is ever written here.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseLibvirtUri, peerUri } from './uri';

export const hostNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a host name is 1-63 letters, digits, dots, dashes or underscores');

const hostSchema = z.object({
  name: hostNameSchema,
  uri: z.string().min(1).max(2000),
  /** How the other hosts' daemons reach this one for peer-to-peer migration. */
  peerUri: z.string().min(1).max(2000),
  /** The link rate the predictions assume for this host, MiB/s (set with --nic-mibps). */
  nicMiBps: z.number().positive().max(1_000_000),
  rack: z.string().min(1).max(64),
  addedAt: z.number(),
});
const fileSchema = z.object({ hosts: z.array(hostSchema) });

export type LibvirtHostRecord = z.infer<typeof hostSchema>;

/** 10 GbE, the usual migration network, until the user says otherwise. */
export const DEFAULT_NIC_MiBps = 1192;

export function hostsFile(dataDir: string): string {
  return path.join(dataDir, 'libvirt-hosts.json');
}

export function readHosts(dataDir: string): LibvirtHostRecord[] {
  let raw: string;
  try {
    raw = fs.readFileSync(hostsFile(dataDir), 'utf8');
  } catch {
    return [];
  }
  const parsed = fileSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`${hostsFile(dataDir)} is damaged (${parsed.error.issues[0]?.message}); fix or remove it, then add the hosts again`);
  return parsed.data.hosts;
}

function writeHosts(dataDir: string, hosts: LibvirtHostRecord[]): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = `${hostsFile(dataDir)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ hosts }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, hostsFile(dataDir));
}

export interface AddHostInput {
  uri: string;
  name?: string;
  peerUri?: string;
  nicMiBps?: number;
  rack?: string;
}

/** Validates and stores a host (not connecting: the caller tested it first). */
export function addHost(dataDir: string, input: AddHostInput, hostname: string): LibvirtHostRecord {
  const u = parseLibvirtUri(input.uri);
  const name = hostNameSchema.parse(input.name ?? (hostname.split('.')[0] || u.host || 'localhost'));
  const peer = input.peerUri ? parseLibvirtUri(input.peerUri) : null;
  const hosts = readHosts(dataDir);
  if (hosts.some((h) => h.name === name)) throw new Error(`a host named ${name} is already added (ferry hosts remove ${name} first, or pick another --name)`);
  if (hosts.some((h) => h.uri === u.uri)) throw new Error(`${u.uri} is already added as ${hosts.find((h) => h.uri === u.uri)!.name}`);
  const rec: LibvirtHostRecord = {
    name, uri: u.uri, peerUri: peer ? peer.uri : peerUri(u), nicMiBps: input.nicMiBps ?? DEFAULT_NIC_MiBps, rack: input.rack ?? 'libvirt', addedAt: Date.now(),
  };
  writeHosts(dataDir, [...hosts, hostSchema.parse(rec)]);
  return rec;
}

export function removeHost(dataDir: string, name: string): LibvirtHostRecord {
  const hosts = readHosts(dataDir);
  const h = hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no libvirt host named ${name} (ferry hosts lists them)`);
  writeHosts(dataDir, hosts.filter((x) => x !== h));
  return h;
}

/** Measured throughput per host pair ("a->b"), kept in libvirt-links.json. */
export interface LinkRate {
  MiBps: number;
  at: number;
}

function linksFile(dataDir: string): string {
  return path.join(dataDir, 'libvirt-links.json');
}

export function readLinkRates(dataDir: string): Record<string, LinkRate> {
  try {
    const v = JSON.parse(fs.readFileSync(linksFile(dataDir), 'utf8')) as Record<string, LinkRate>;
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export function saveLinkRate(dataDir: string, from: string, to: string, MiBps: number): void {
  const all = { ...readLinkRates(dataDir), [`${from}->${to}`]: { MiBps, at: Date.now() } };
  const tmp = `${linksFile(dataDir)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, linksFile(dataDir));
}
