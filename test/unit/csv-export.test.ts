// The CSV the console's Export CSV downloads and the one `ferry history --csv` prints are
// the same bytes for the same filter: one exporter (common/history-export.ts), and both
// fetch the rows through the contract's history:list with fetchAllRows.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchAllRows, toCsv } from '../../common/history-export';
import { makeApi, type HistoryFilter } from '../../preload/contract';
import { createApp } from '../../main/app';
import { main } from '../../main/cli/ferry';
import { Store } from '../../main/store/store';
import { EMPTY_FORM, toApiFilter, type HistoryForm } from '../../renderer/src/history/filter-model';
import { record } from './store.test-record';

const RECORDS = [
  record('m-1', { vm: '=cmd()', reason: 'link died, then "retried"\nand gave up', outcome: 'failed', downtimeMs: null, queuedAt: '2026-11-20T10:00:00.000Z' }),
  record('m-2', { vm: 'db-001', vmId: 'db-001', totalMs: 1234.56789, queuedAt: '2026-11-21T10:00:00.000Z' }),
  record('m-3', { vm: 'db-001', vmId: 'db-001', outcome: 'failed', reason: '+1 round too many', queuedAt: '2026-11-22T10:00:00.000Z' }),
  // Same queued_at as m-3: the order between them comes from the store's tie-break, in both.
  record('m-4', { startedBy: '@ops', policy: { ...record('x').policy, bandwidthMiBps: 250 }, queuedAt: '2026-11-22T10:00:00.000Z' }),
];

describe('CSV export', () => {
  it('guards formula-like cells and quotes commas, quotes and line breaks (RFC 4180, CRLF)', () => {
    const csv = toCsv(RECORDS);
    const head = csv.slice(0, csv.indexOf('\r\n'));
    expect(head.split(',')).toEqual([
      'id', 'queued_at', 'started_at', 'ended_at', 'vm', 'from', 'to', 'cluster', 'driver', 'started_by',
      'requested_strategy', 'strategy', 'outcome', 'reason', 'predicted_downtime_ms', 'downtime_ms',
      'predicted_total_ms', 'total_ms', 'predicted_bytes', 'bytes', 'rounds', 'postcopy_faults',
      'downtime_limit_ms', 'bandwidth_cap_mibps',
    ]);
    expect(csv.endsWith('\r\n')).toBe(true);
    // A record's line break stays inside its quoted cell; records end with CRLF.
    expect(csv.split('\r\n')).toHaveLength(RECORDS.length + 2);
    expect(csv).toContain(`,'=cmd(),`);
    expect(csv).toContain(`,"link died, then ""retried""\nand gave up",`);
    expect(csv).toContain(`,'+1 round too many,`);
    expect(csv).toContain(`,'@ops,`);
    // Numbers are never guarded; they are rounded to 3 decimals; null is an empty cell.
    expect(csv).toContain(',1234.568,');
    expect(csv.split('\r\n')[1]).toMatch(/,40,,3000,/);
    expect(csv.split('\r\n')[4]).toMatch(/,250\r?$/);
    expect(toCsv([record('m-5', { downtimeMs: -0.00012 })])).not.toContain("'-");
  });

  it('fetches every page, with the same filter, up to the cap', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => record(`m${i}`));
    const asked: HistoryFilter[] = [];
    const list = async (f: HistoryFilter) => {
      asked.push(f);
      return { rows: rows.slice(f.offset ?? 0, (f.offset ?? 0) + Math.min(f.limit ?? 10, 10)), total: rows.length };
    };
    expect(await fetchAllRows(list, { outcome: 'completed' })).toHaveLength(25);
    expect(asked.every((f) => f.outcome === 'completed')).toBe(true);
    expect(await fetchAllRows(list, {}, 12)).toHaveLength(12);
  });

  describe('the CLI and the console give the same bytes', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-csv-'));
      const store = Store.open(dir);
      for (const r of RECORDS) store.insertMigration(r);
      store.close();
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** What `ferry history --csv` writes to stdout, byte for byte. */
    async function cliCsv(args: string[]): Promise<Buffer> {
      const chunks: Buffer[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        chunks.push(Buffer.from(chunk));
        return true;
      });
      try {
        expect(await main(['history', '--csv', '--data-dir', dir, ...args])).toBe(0);
      } finally {
        spy.mockRestore();
      }
      return Buffer.concat(chunks);
    }

    /** What the console's Export CSV downloads: the form's filter with the table's sort, every page. */
    async function consoleCsv(form: Partial<HistoryForm>): Promise<Buffer> {
      const app = createApp({ dataDir: dir, host: 'browser', longLived: false, speed: 'virtual' });
      try {
        const api = makeApi({ invoke: (c, r) => app.router.dispatch(c, r), subscribe: (e, l) => app.events.on(e, l as never) });
        const listFilter: HistoryFilter = { ...toApiFilter({ ...EMPTY_FORM, ...form }), sort: 'queuedAt', desc: true };
        return Buffer.from(toCsv(await fetchAllRows((f) => api.history.list(f), listFilter)), 'utf8');
      } finally {
        await app.close();
      }
    }

    it('unfiltered', async () => {
      const cli = await cliCsv([]);
      expect(cli.toString('utf8').split('\r\n')).toHaveLength(RECORDS.length + 2);
      expect(cli.equals(await consoleCsv({}))).toBe(true);
    });

    it('filtered by outcome and VM', async () => {
      const cli = await cliCsv(['--outcome', 'failed', '--vm', 'db-001']);
      expect(cli.toString('utf8').split('\r\n').slice(1, -1).map((l) => l.split(',')[0])).toEqual(['m-3']);
      expect(cli.equals(await consoleCsv({ outcome: 'failed', vm: 'db-001' }))).toBe(true);
    });
  });
});
