// The one CSV exporter (console and CLI): quoting, the formula guard, and paging.
import { describe, expect, it } from 'vitest';
import { fetchAllRows, toCsv } from '../../common/history-export';
import type { HistoryFilter } from '../../preload/contract';
import { record } from './store.test-record';

describe('history CSV', () => {
  it('quotes commas, quotes and line breaks, and guards cells a spreadsheet would run', () => {
    const csv = toCsv([record('m1', { vm: '=HYPERLINK("x")', reason: 'failed, "badly"\nreally', startedBy: '@ops' })]);
    // CRLF ends records; the line break inside the quoted reason stays a bare LF.
    const lines = csv.split('\r\n');
    expect(lines).toHaveLength(3);
    const [head, row, end] = lines;
    expect(head).toMatch(/^id,queued_at,started_at,ended_at,vm,from,to,/);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain(`"failed, ""badly""\nreally"`);
    expect(csv).toContain(`,'@ops,`);
    expect(end).toBe('');
  });

  it('numbers are never guarded, and are rounded to 3 decimals', () => {
    const csv = toCsv([record('m2', { downtimeMs: -0.00012, totalMs: 1234.56789 })]);
    expect(csv).toContain(',1234.568,');
    expect(csv).not.toContain("'-");
  });

  it('fetches every page up to the cap', async () => {
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
});
