import { describe, it, expect } from 'vitest';
import { parseSimDatacenter } from '../../main/sim/format';
import { generateDatacenter } from '../../main/sim/seed';

describe('simulated datacenter file', () => {
  it('accepts what the generator writes, and the default has 2+ clusters, 20 hosts, 120 VMs', () => {
    const dc = generateDatacenter();
    expect(dc.clusters.length).toBeGreaterThanOrEqual(2);
    expect(dc.hosts).toHaveLength(20);
    expect(dc.vms).toHaveLength(120);
    const text = JSON.stringify(dc, null, 2);
    expect(parseSimDatacenter(text)).toEqual(dc);
    // Varied sizes and workloads, not one VM copied 120 times.
    expect(new Set(dc.vms.map((v) => v.memoryMiB)).size).toBeGreaterThan(4);
    expect(new Set(dc.vms.map((v) => v.dirtyMiBps)).size).toBeGreaterThan(30);
  });

  it('is deterministic for a seed', () => {
    expect(generateDatacenter({ seed: 7 })).toEqual(generateDatacenter({ seed: 7 }));
    expect(generateDatacenter({ seed: 7 })).not.toEqual(generateDatacenter({ seed: 8 }));
  });

  const base = () => ({
    clusters: [{ id: 'c1' }],
    hosts: [
      { id: 'h1', cluster: 'c1', rack: 'r1', cores: 8, memoryMiB: 65536, nicMiBps: 1192 },
      { id: 'h2', cluster: 'c1', rack: 'r1', cores: 8, memoryMiB: 65536, nicMiBps: 1192 },
    ],
    vms: [{ id: 'v1', host: 'h1', memoryMiB: 2048, vcpus: 2, wssMiB: 256, dirtyMiBps: 50 }],
  });

  it('rejects a bad field with its line and path', () => {
    const dc = base();
    (dc.vms[0] as Record<string, unknown>).memoryMiB = -5;
    const text = JSON.stringify(dc, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('"memoryMiB": -5')) + 1;
    expect(() => parseSimDatacenter(text, 'dc.json')).toThrow(new RegExp(`^dc.json line ${line}: vms\\[0\\]\\.memoryMiB: `));
  });

  it('rejects an unknown host reference and a duplicate id with their lines', () => {
    const dc = base();
    dc.vms[0]!.host = 'nowhere';
    const text = JSON.stringify(dc, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('"nowhere"')) + 1;
    expect(() => parseSimDatacenter(text, 'dc.json')).toThrow(`dc.json line ${line}: vms[0].host: unknown host "nowhere"`);
    const dup = base();
    dup.hosts[1]!.id = 'h1';
    expect(() => parseSimDatacenter(JSON.stringify(dup, null, 2))).toThrow(/hosts\[1\]\.id: duplicate host id "h1"/);
  });

  it('rejects unknown fields and broken JSON in words', () => {
    const dc = { ...base(), colour: 'blue' };
    expect(() => parseSimDatacenter(JSON.stringify(dc))).toThrow(/colour|unrecognized/i);
    expect(() => parseSimDatacenter('{"clusters": [', 'x.json')).toThrow(/^x.json.*not valid JSON/);
    const big = base();
    big.vms[0]!.wssMiB = 4096;
    expect(() => parseSimDatacenter(JSON.stringify(big))).toThrow(/working set 4096 MiB is larger than memory 2048 MiB/);
  });
});
