// One figure per fact: the words and figures the console and the CLI share (link speed,
// rounds of a post-copy migration, a cancelled report's reason), and cluster names per driver.
import { describe, it, expect } from 'vitest';
import type { Host, Inventory } from '../../preload/model';
import { formatRounds, linkName, wentPostcopy } from '../../common/units';
import { linkName as consoleLinkName } from '../../renderer/src/format';
import { outcomeText, roundsOf, spansTime, strategyReason } from '../../renderer/src/report/report-words';
import { buildLayout } from '../../renderer/src/map/layout';
import { buildIndex } from '../../renderer/src/state/inventory-index';
import { record } from './store.test-record';

describe('shared figures', () => {
  it('names a link by its line rate, the same function for console and CLI', () => {
    expect(linkName(2980)).toBe('25 GbE');
    expect(linkName(1192)).toBe('10 GbE');
    expect(linkName(120)).toBe('1 GbE');
    expect(consoleLinkName).toBe(linkName);
  });

  it('counts a post-copy pass the same way in a prediction and a record', () => {
    expect(formatRounds(3, false)).toBe('3 rounds');
    expect(formatRounds(1, false)).toBe('1 round');
    expect(formatRounds(1, true)).toBe('1 pre-copy round + 1 post-copy pass');
    expect(formatRounds(0, true)).toBe('1 post-copy pass');
    expect(formatRounds(0, true, true)).toBe('post-copy');
    const qemu = record('m-1', { strategy: 'postcopy', rounds: 0, postcopyFaults: 10, predicted: { converges: true, downtimeMs: 5, totalMs: 9000, bytes: 1e10, rounds: 1 } });
    expect(wentPostcopy(qemu)).toBe(true);
    expect(roundsOf(qemu)).toEqual({ predicted: '1 pre-copy round + 1 post-copy pass', actual: '1 post-copy pass' });
    expect(wentPostcopy(record('m-2', { strategy: 'hybrid', postcopyFaults: null }))).toBe(false);
    expect(roundsOf(record('m-3'))).toEqual({ predicted: '3 rounds', actual: '4 rounds' });
  });
});

describe('report words', () => {
  const cancelled = record('m-c', {
    outcome: 'cancelled', reason: 'cancelled by root; app-008 stays on ams-h07',
    events: [{ t: 0, text: 'queued: pre-copy converges in 3 rounds' }, { t: 0, text: 'cancelled: cancelled by root; app-008 stays on ams-h07' }],
  });

  it('keeps the strategy reason of a cancelled migration and gives the cancel as its outcome', () => {
    expect(strategyReason(cancelled)).toBe('pre-copy converges in 3 rounds');
    expect(outcomeText(cancelled)).toEqual({ label: 'Outcome', text: 'cancelled by root; app-008 stays on ams-h07' });
    expect(strategyReason(record('m-ok'))).toBe('converges');
    expect(outcomeText(record('m-ok'))).toBeNull();
    expect(outcomeText(record('m-f', { outcome: 'failed', reason: 'link down' }))).toEqual({ label: 'Why it failed', text: 'link down' });
  });

  it('has no chart for samples that span no time', () => {
    const s = { round: 0, phase: 'precopy' as const, remainingBytes: 1, transferredBytes: 0, dirtyMiBps: 1, bandwidthMiBps: 1, expectedDowntimeMs: 1, throttlePct: 0 };
    expect(spansTime([])).toBe(false);
    expect(spansTime([{ ...s, t: 0 }])).toBe(false);
    expect(spansTime([{ ...s, t: 0 }, { ...s, t: 0 }])).toBe(false);
    expect(spansTime([{ ...s, t: 0 }, { ...s, t: 10 }])).toBe(true);
  });
});

describe('cluster map names', () => {
  const host = (id: string, cluster: string, driver: Host['driver']): Host =>
    ({ id, name: id, cluster, rack: 'r1', driver, cores: 8, memoryMiB: 8192, nicMiBps: 1192, state: 'up', maintenance: false, usage: { cpuPct: 0, memUsedMiB: 0, nicInMiBps: 0, nicOutMiBps: 0 } }) as unknown as Host;

  it('names a cluster by its own driver when a simulated cluster is also called "lab"', () => {
    // As the inventory service lists them: each driver's clusters in turn.
    const inventory: Inventory = {
      version: 1,
      clusters: [{ id: 'lab', name: 'lab' }, { id: 'fra', name: 'FRA production' }, { id: 'lab', name: 'QEMU lab' }],
      hosts: [host('sim-1', 'lab', 'sim'), host('sim-2', 'fra', 'sim'), host('qemu-1', 'lab', 'qemu')],
      vms: [],
    } as unknown as Inventory;
    const heads = buildLayout(buildIndex(inventory), 3, () => true).items.filter((i) => i.kind === 'cluster');
    expect(heads.map((h) => (h.kind === 'cluster' ? [h.name, h.hosts] : null))).toEqual([['lab', 1], ['FRA production', 1], ['QEMU lab', 1]]);
    expect(new Set(heads.map((h) => h.key)).size).toBe(3);
  });
});
