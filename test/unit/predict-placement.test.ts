import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../preload/model';
import { destinations, fit } from '../../main/engine/placement';
import { host, vm } from './engine-fake-driver';

describe('fit', () => {
  const hosts = [host('a'), host('small', { memoryMiB: 16384, cores: 2 }), host('down', { state: 'down' }), host('maint', { maintenance: true })];

  it('refuses the VM its own host', () => {
    const v = vm('web', 'a');
    const f = fit(v, hosts[0]!, { hosts, vms: [v] });
    expect(f.ok).toBe(false);
    expect(f.reason).toBe('web already runs on a');
  });

  it('refuses a host that is down or in maintenance', () => {
    const v = vm('web', 'a');
    expect(fit(v, hosts[2]!, { hosts, vms: [v] }).reason).toBe('down is down');
    expect(fit(v, hosts[3]!, { hosts, vms: [v] }).reason).toBe('maint is in maintenance');
  });

  it('counts resident VMs, VMs moving in, and a 5% reserve', () => {
    const v = vm('big', 'a', { memoryMiB: 8192 });
    const resident = vm('r', 'small', { memoryMiB: 4096 });
    const ok = fit(v, hosts[1]!, { hosts, vms: [v, resident] });
    expect(ok.ok).toBe(true);
    expect(ok.freeMemMiB).toBeCloseTo(16384 * 0.95 - 4096, 5);
    const coming = vm('c', 'a', { memoryMiB: 4096 });
    const f = fit(v, hosts[1]!, { hosts, vms: [v, resident] }, [coming]);
    expect(f.ok).toBe(false);
    expect(f.reason).toBe('big needs 8 GiB; small has 7.2 GiB free (after a 5% reserve and 4 GiB for VMs moving in)');
  });

  it('ignores stopped VMs, which hold no memory', () => {
    const v = vm('big', 'a', { memoryMiB: 8192 });
    const stopped = vm('s', 'small', { memoryMiB: 12000, state: 'stopped' });
    expect(fit(v, hosts[1]!, { hosts, vms: [v, stopped] }).ok).toBe(true);
  });

  it('respects the vCPU overcommit limit', () => {
    const v = vm('cpu', 'a', { vcpus: 9, memoryMiB: 1024 });
    const f = fit(v, hosts[1]!, { hosts, vms: [v] });
    expect(f.reason).toBe('cpu needs 9 vCPUs; small has 8 left under its 4x overcommit of 2 cores');
  });

  it('keeps anti-affinity groups apart, resident or incoming', () => {
    const v = vm('db-1', 'a', { antiAffinity: 'db-pair-1', memoryMiB: 1024 });
    const twin = vm('db-2', 'small', { antiAffinity: 'db-pair-1', memoryMiB: 1024 });
    expect(fit(v, hosts[1]!, { hosts, vms: [v, twin] }).reason).toBe('db-2 runs on small and shares anti-affinity group db-pair-1 with db-1');
    const moving = vm('db-3', 'x', { antiAffinity: 'db-pair-1', memoryMiB: 1024 });
    expect(fit(v, hosts[1]!, { hosts, vms: [v] }, [moving]).reason).toBe('db-3 is moving to small and shares anti-affinity group db-pair-1 with db-1');
  });
});

describe('destinations', () => {
  it('gives every other host a verdict with a reason', () => {
    const hosts = [
      host('src', { nicMiBps: 1192 }),
      host('good', { nicMiBps: 1192 }),
      host('slow', { nicMiBps: 50 }),
      host('full', { memoryMiB: 4096 }),
    ];
    const v = vm('app', 'src', { memoryMiB: 8192 }, { wssMiB: 2048, dirtyMiBps: 100 });
    const d = destinations(v, { hosts, vms: [v] }, DEFAULT_POLICY);
    expect(d.map((x) => x.host)).toEqual(['good', 'slow', 'full']);
    const by = Object.fromEntries(d.map((x) => [x.host, x]));
    expect(by.good!.verdict).toBe('green');
    expect(by.good!.strategy).toBe('precopy');
    expect(by.slow!.verdict).toBe('amber');
    expect(by.slow!.reason).toMatch(/exceeds the 50 MiB\/s link/);
    expect(by.full!.verdict).toBe('red');
    expect(by.full!.reason).toMatch(/^app needs 8 GiB; full has/);
  });
});
