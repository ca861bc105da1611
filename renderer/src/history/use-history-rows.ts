// History rows fetched page by page as the virtualised table scrolls to them, so a
// history of hundreds of thousands of migrations never loads at once.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { HistoryFilter } from '../../../preload/contract';
import type { MigrationRecord } from '../../../preload/model';
import { fetchAllRows } from '../../../common/history-export';
import { ferry } from '../api';
import { errorText } from '../format';

export const PAGE_SIZE = 200;

export interface HistoryRows {
  total: number | null;
  /** Row at an index, or undefined while its page loads. */
  row(i: number): MigrationRecord | undefined;
  /** Ask for the pages covering rows [from, to]. */
  need(from: number, to: number): void;
  error: string | null;
  version: number;
}

export function useHistoryRows(filter: HistoryFilter, refreshKey: number): HistoryRows {
  const pages = useRef(new Map<number, MigrationRecord[]>());
  const loading = useRef(new Set<number>());
  const generation = useRef(0);
  /** True from a new filter until its first page arrives: old rows stay on screen meanwhile. */
  const stale = useRef(false);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const filterKey = JSON.stringify(filter);

  const load = useCallback(
    (page: number, gen: number) => {
      if ((!stale.current && pages.current.has(page)) || loading.current.has(page)) return;
      loading.current.add(page);
      const f = JSON.parse(filterKey) as HistoryFilter;
      ferry.history.list({ ...f, limit: PAGE_SIZE, offset: page * PAGE_SIZE }).then(
        (res) => {
          if (gen !== generation.current) return;
          loading.current.delete(page);
          if (stale.current) {
            pages.current = new Map();
            stale.current = false;
          }
          pages.current.set(page, res.rows);
          setTotal(res.total);
          setError(null);
          setVersion((v) => v + 1);
        },
        (e) => {
          if (gen !== generation.current) return;
          loading.current.delete(page);
          setError(errorText(e));
        },
      );
    },
    [filterKey],
  );

  // A new filter, sort or refresh starts over from the first page; rows already on screen
  // stay until their replacement arrives, so the table does not flash empty.
  useEffect(() => {
    const gen = ++generation.current;
    stale.current = true;
    loading.current = new Set();
    load(0, gen);
  }, [load, refreshKey]);

  const need = useCallback(
    (from: number, to: number) => {
      if (stale.current) return;
      for (let p = Math.floor(from / PAGE_SIZE); p <= Math.floor(to / PAGE_SIZE); p++) load(p, generation.current);
    },
    [load],
  );

  const row = useCallback((i: number) => pages.current.get(Math.floor(i / PAGE_SIZE))?.[i % PAGE_SIZE], []);

  return { total, row, need, error, version };
}

/** Every row matching the filter (for export), as `ferry history --csv` fetches them. */
export function fetchAll(filter: HistoryFilter, max = 100_000): Promise<MigrationRecord[]> {
  return fetchAllRows((f) => ferry.history.list(f), filter, max);
}
