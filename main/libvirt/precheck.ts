// What a real host would refuse, checked before a drop: the destination's CPU against the
// guest's CPU definition (libvirt's CPU comparison), the guest's machine type on the
// destination's QEMU, and storage (a disk on shared or network storage migrates as is; a
// local one would have to be copied, which Ferry does not do yet, so it is refused).
import type { LibvirtClient } from './client';
import { CPU_COMPARE } from './protocol';

export interface DiskFact {
  target: string;
  /** file, block, network, volume */
  type: string;
  source: string | null;
  shareable: boolean;
}

export interface DomainFacts {
  name: string;
  virtType: string;
  arch: string | null;
  machine: string | null;
  /** The <cpu> element, for the comparison; null when the guest takes the hypervisor's default. */
  cpuXml: string | null;
  cpuMode: string | null;
  disks: DiskFact[];
}

const attr = (tag: string, name: string): string | null => new RegExp(`\\b${name}=['"]([^'"]*)['"]`).exec(tag)?.[1] ?? null;

/** The facts the pre-checks need, from a domain's XML (libvirt's own, so its layout is known). */
export function domainFacts(xml: string): DomainFacts {
  const domainTag = /<domain\b[^>]*>/.exec(xml)?.[0] ?? '';
  const typeTag = /<os\b[^>]*>[\s\S]*?(<type\b[^>]*>)/.exec(xml)?.[1] ?? '';
  const cpu = /<cpu\b[^>]*\/>|<cpu\b[^>]*>[\s\S]*?<\/cpu>/.exec(xml)?.[0] ?? null;
  const disks: DiskFact[] = [];
  for (const m of xml.matchAll(/<disk\b([^>]*)>([\s\S]*?)<\/disk>/g)) {
    const open = `<disk${m[1]}>`;
    if ((attr(open, 'device') ?? 'disk') !== 'disk') continue; // cdrom, floppy, lun: not copied
    const body = m[2]!;
    const src = /<source\b[^>]*>/.exec(body)?.[0] ?? '';
    disks.push({
      target: attr(/<target\b[^>]*>/.exec(body)?.[0] ?? '', 'dev') ?? '?',
      type: attr(open, 'type') ?? 'file',
      source: attr(src, 'file') ?? attr(src, 'dev') ?? attr(src, 'name') ?? attr(src, 'volume'),
      shareable: /<shareable\s*\/>/.test(body),
    });
  }
  return {
    name: /<name>([^<]*)<\/name>/.exec(xml)?.[1] ?? '?',
    virtType: attr(domainTag, 'type') ?? 'kvm',
    arch: attr(typeTag, 'arch'),
    machine: attr(typeTag, 'machine'),
    cpuXml: cpu && !/mode=['"]host-passthrough['"]/.test(cpu) && /<model\b/.test(cpu) ? cpu : null,
    cpuMode: cpu ? attr(cpu, 'mode') : null,
    disks,
  };
}

/**
 * A local disk the destination cannot see, in words, or null. `sharedPaths` are the disk
 * paths the destination also has in one of its storage pools (NFS, a shared LUN...).
 */
export function storageRefusal(f: DomainFacts, hostName: string, sharedPaths: ReadonlySet<string>): string | null {
  for (const d of f.disks) {
    if (d.type === 'network') continue; // Ceph RBD, iSCSI, NBD, Gluster: both hosts reach it
    if (d.shareable) continue;
    if (d.source && sharedPaths.has(d.source)) continue;
    return `${f.name}'s disk ${d.target} (${d.source ?? d.type}) is local storage ${hostName} does not see; Ferry does not copy disks with a migration yet: put it on shared storage (NFS, Ceph) or move it offline`;
  }
  return null;
}

/** The disks' paths the destination's storage pools hold too (libvirt's volume lookup by path). */
export async function sharedOn(f: DomainFacts, dst: LibvirtClient): Promise<Set<string>> {
  const out = new Set<string>();
  for (const d of f.disks) {
    if (d.source && (d.type === 'file' || d.type === 'block') && (await dst.volumeExists(d.source))) out.add(d.source);
  }
  return out;
}

/** CPU and machine type on the destination, asked of the destination's libvirt. */
export async function hypervisorRefusal(f: DomainFacts, dst: LibvirtClient, hostName: string, qemuVersion: string): Promise<string | null> {
  if (f.machine) {
    try {
      await dst.domainCapabilities(f.machine, f.arch);
    } catch (e) {
      return `${hostName}'s QEMU ${qemuVersion} has no machine type ${f.machine}, which ${f.name} runs on (${(e as Error).message})`;
    }
  }
  // host-passthrough guests have no model to compare (they need identical hosts; libvirt
  // checks at migration time); guests with a named model are compared here.
  if (f.cpuXml) {
    const r = await dst.compareCpu(f.cpuXml, f.arch, f.machine, f.virtType).catch(() => CPU_COMPARE.error);
    if (r === CPU_COMPARE.incompatible) return `${hostName}'s CPU lacks features ${f.name}'s CPU model needs (libvirt's CPU comparison says incompatible)`;
  }
  return null;
}
