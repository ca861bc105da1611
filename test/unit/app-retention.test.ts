// The console applies the retention setting at start: old migrations lose their per-round
// samples, keep their summary rows; recent ones keep everything; CLI commands do nothing.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../main/store/store';
import { createApp } from '../../main/app';
import { record } from './store.test-record';

const sample = { round: 0, t: 1, phase: 'precopy' as const, remainingBytes: 1, transferredBytes: 1, dirtyMiBps: 1, bandwidthMiBps: 1, expectedDowntimeMs: 1, throttlePct: 0 };

describe('retention at start', () => {
  let dir: string;
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prunes old samples in the console, not in a CLI command', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-retention-'));
    const store = Store.open(dir);
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    store.insertMigration(record('old', { queuedAt: old }));
    store.insertMigration(record('new', { queuedAt: new Date().toISOString() }));
    store.addRound('old', sample);
    store.addRound('new', sample);
    store.setMeta('retention.roundsDays', '30');
    store.close();

    const cli = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
    expect(cli.store.rounds('old')).toHaveLength(1);
    await cli.close();

    const console = createApp({ dataDir: dir, host: 'browser', speed: 'virtual' });
    expect(console.store.rounds('old')).toEqual([]);
    expect(console.store.getMigration('old')?.downtimeMs).toBe(42);
    expect(console.store.rounds('new')).toHaveLength(1);
    expect(console.store.auditLog()[0]).toMatchObject({ action: 'retention', detail: { samplesPruned: 1, days: 30 } });
    await console.close();
  });
});
