// Pre-checks that real hosts need, before a drop, and the link rate a host pair really reached: the facts read from a domain's XML, the
// storage verdict, and the engine refusing a destination a driver's pre-check refuses,
// with the driver's reason, in destinations (shown while dragging) and at start.
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../preload/contract';
import { MigrationEngine } from '../../main/engine/engine';
import { domainFacts, storageRefusal } from '../../main/libvirt/precheck';
import { FakeDriver, MemoryRecorder, host, vm } from './engine-fake-driver';

const XML = `<domain type='kvm' id='3'>
  <name>db-01</name>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><boot dev='hd'/></os>
  <cpu mode='custom' match='exact' check='full'><model fallback='forbid'>Skylake-Server-IBRS</model><feature policy='require' name='avx512f'/></cpu>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/db-01.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='network' device='disk'><source protocol='rbd' name='pool/db-01-data'/><target dev='vdb' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/isos/debian.iso'/><target dev='sda' bus='sata'/></disk>
    <disk type='block' device='disk'><source dev='/dev/mapper/shared-lun'/><target dev='vdc' bus='virtio'/><shareable/></disk>
  </devices>
</domain>`;

describe('libvirt pre-checks', () => {
  it("reads machine type, CPU model and disks from a domain's XML", () => {
    const f = domainFacts(XML);
    expect(f).toMatchObject({ name: 'db-01', virtType: 'kvm', arch: 'x86_64', machine: 'pc-q35-7.2', cpuMode: 'custom' });
    expect(f.cpuXml).toContain('Skylake-Server-IBRS');
    expect(f.disks.map((d) => [d.target, d.type, d.source, d.shareable])).toEqual([
      ['vda', 'file', '/var/lib/libvirt/images/db-01.qcow2', false],
      ['vdb', 'network', 'pool/db-01-data', false],
      ['vdc', 'block', '/dev/mapper/shared-lun', true],
    ]);
    expect(domainFacts("<domain type='qemu'><name>t</name><os><type arch='x86_64' machine='pc'>hvm</type></os><cpu mode='host-passthrough'/></domain>").cpuXml).toBeNull();
  });

  it('lets network, shareable and pool-visible disks through, and refuses a local one with the way out', () => {
    const f = domainFacts(XML);
    expect(storageRefusal(f, 'kvm-08', new Set())).toMatch(/^db-01's disk vda \(\/var\/lib\/libvirt\/images\/db-01.qcow2\) is local storage kvm-08 does not see; .*shared storage/);
    expect(storageRefusal(f, 'kvm-08', new Set(['/var/lib/libvirt/images/db-01.qcow2']))).toBeNull();
  });

  it("the engine refuses a destination its driver's pre-check refuses, with that reason", () => {
    class Picky extends FakeDriver {
      refusal(vmId: string, toHostId: string): string | null {
        return vmId === 'v1' && toHostId === 'b' ? "b's CPU lacks features v1's CPU model needs" : null;
      }
    }
    const driver = new Picky([host('a'), host('b'), host('c')], [vm('v1', 'a'), vm('v2', 'a')]);
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'ops' });
    const b = engine.destinations('v1').find((d) => d.host === 'b')!;
    expect(b.fit).toMatchObject({ ok: false, reason: "b's CPU lacks features v1's CPU model needs" });
    expect(b.verdict).toBe('red');
    expect(engine.destinations('v2').find((d) => d.host === 'b')!.fit.ok).toBe(true);
    let err: unknown;
    try {
      engine.start({ vms: ['v1'], to: 'b', strategy: 'precopy' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FerryError);
    expect((err as Error).message).toBe("v1 cannot move to b: b's CPU lacks features v1's CPU model needs");
  });
});

describe('measured link rate', () => {
  it('predictions take the lower of the link rate and what the pair measured', () => {
    class Measured extends FakeDriver {
      measuredLinkMiBps(from: string, to: string): number | null {
        return from === 'a' && to === 'b' ? 150 : null;
      }
    }
    const make = (d: FakeDriver) => new MigrationEngine({ drivers: [d], recorder: new MemoryRecorder(), startedBy: 'ops' });
    const plain = make(new FakeDriver([host('a'), host('b'), host('c')], [vm('v1', 'a', {}, { dirtyMiBps: 5 })]));
    const measured = make(new Measured([host('a'), host('b'), host('c')], [vm('v1', 'a', {}, { dirtyMiBps: 5 })]));
    const fast = plain.predict('v1', 'b', 'precopy').predicted.totalMs;
    const slow = measured.predict('v1', 'b', 'precopy').predicted.totalMs;
    // 1192 MiB/s nominal against 150 measured: about 8x longer (setup time aside).
    expect(slow / fast).toBeGreaterThan(4);
    expect(measured.predict('v1', 'c', 'precopy').predicted.totalMs).toBeCloseTo(plain.predict('v1', 'c', 'precopy').predicted.totalMs, 5);
  });
});
