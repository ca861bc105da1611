// The inventory as the renderer sees it: fetched once, then patched from the hosts and VMs
// each `inventory:changed` carries in columns (refetched only when an event has no detail, coalesced:
// at most one request in flight, one more queued), indexed for O(1) look-ups.
// It comes in parts (inventory:part): at the start the first screen's hosts first, shown at
// once, then the rest; a refetch asks for it all.
import { startTransition, useEffect, useState, useSyncExternalStore } from 'react';
import { joinParts, MAX_PART_HOSTS, decodeColumns, type InventoryPart } from '../../../preload/inventory-part';
import type { Events } from '../../../preload/contract';
import type { Inventory } from '../../../preload/model';
import { ferry, onReconnect } from '../api';
import { errorText } from '../format';
import { createStore } from './store';
import { buildIndex, patchIndex, type InventoryIndex } from './inventory-index';

export { buildIndex, patchIndex, type InventoryIndex };

export interface InventoryState {
  index: InventoryIndex | null;
  error: string | null;
  loading: boolean;
  /** False while only the first part is here (the first screen's hosts). */
  complete: boolean;
  /**
   * The whole inventory's size as the first part gave it, while only that part is here:
   * what the map says it has not shown yet when the rest could not be fetched.
   */
  expected: { hosts: number; vms: number } | null;
}

const store = createStore<InventoryState>({ index: null, error: null, loading: false, complete: false, expected: null });

/** Hosts asked for first: more than any screen shows (12 columns x 6 rows on a 4K screen). */
export const FIRST_SCREEN_HOSTS = 120;

/**
 * The whole inventory, in parts of at most MAX_PART_HOSTS hosts. `first`: the size of the
 * first part, handed to `early` as soon as it is here; the rest is asked for once `restAfter`
 * settles. Parts read at different versions (the inventory changed between them, as it does
 * every second when figures are measured again) are joined at the oldest (see joinParts),
 * and the change events that came meanwhile are applied on top (see refreshInventory).
 */
async function fetchInventory(
  first: number,
  early: (head: Inventory, total: { hosts: number; vms: number }) => void,
  restAfter: Promise<unknown>,
): Promise<Inventory> {
  for (let attempt = 0; ; attempt++) {
    const parts: InventoryPart[] = [];
    let from = 0;
    for (;;) {
      const part = await ferry.inventory.part({ from, count: parts.length || attempt ? MAX_PART_HOSTS : first });
      parts.push(part);
      from += part.hosts.id.length;
      if (parts.length === 1 && from < part.totalHosts) early({ clusters: part.clusters, ...decodeColumns(part), version: part.version }, { hosts: part.totalHosts, vms: part.totalVms });
      if (from >= part.totalHosts || part.hosts.id.length === 0) break;
      if (parts.length === 1) await restAfter;
    }
    // Null when the hosts changed between the parts (they no longer line up): read it again.
    const inventory = joinParts(parts);
    if (inventory) return inventory;
    if (attempt >= 2) throw new Error('the inventory kept changing while it was read');
  }
}

type Change = Events['inventory:changed'];

const MIN_INTERVAL_MS = 300;
let inFlight = false;
/** True while the inventory is being read (inFlight also covers the pause after it). */
let reading = false;
let again = false;
let started = false;
/**
 * After a read failed (the toolbar says so, with Retry), change events, one a second, read
 * the inventory again at most this often, not at each.
 */
const RETRY_AFTER_FAILURE_MS = 10_000;
let failedAt = -Infinity;
/**
 * Set when the connection came back: the server may be a new process whose versions started
 * again, so the next read replaces what is shown whatever its version.
 */
let fromScratch = false;
/** Change events that came while the inventory was being read: applied once it is here. */
let held: Change[] = [];
/** What the rest of the inventory waits for at the start (see startInventory). */
let firstDrawn: Promise<unknown> = Promise.resolve();

/**
 * A change event on the inventory in the store: its hosts and VMs patched in, or, for an
 * event without them (or before the whole inventory is here, or after one was missed), the
 * inventory read again.
 */
function applyChange({ version, since, changed }: Change): void {
  const current = store.get().index;
  // Events can overtake each other: never go back to an older version.
  if (current && version <= current.inventory.version) return;
  // Only the whole inventory is patched: with the first part alone (the rest failed), an
  // event reads it all again, at most every RETRY_AFTER_FAILURE_MS after a failed read.
  // An event that follows one this console never had (its inventory is older than `since`)
  // cannot be patched in either: what that one carried would be missing.
  if (current && store.get().complete && changed && since <= current.inventory.version) {
    const { hosts, vms } = decodeColumns(changed);
    store.update((s) => ({ ...s, index: patchIndex(current, version, hosts, vms), error: null, loading: false }));
  } else if (Date.now() - failedAt >= RETRY_AFTER_FAILURE_MS) void refreshInventory();
}

export async function refreshInventory(): Promise<void> {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  reading = true;
  held = [];
  const scratch = fromScratch;
  fromScratch = false;
  store.update((s) => ({ ...s, loading: true }));
  try {
    const firstLoad = !store.get().index;
    const inventory = await fetchInventory(
      firstLoad ? FIRST_SCREEN_HOSTS : MAX_PART_HOSTS,
      (head, total) => {
        if (!store.get().index) store.set({ index: buildIndex(head), error: null, loading: true, complete: false, expected: total });
      },
      firstDrawn,
    );
    reading = false;
    failedAt = -Infinity;
    const current = store.get().complete && !scratch ? store.get().index : null;
    // Events can overtake each other: never go back to an older version.
    if (!current || inventory.version >= current.inventory.version) {
      store.set({ index: buildIndex(inventory), error: null, loading: false, complete: true, expected: null });
    } else store.update((s) => ({ ...s, loading: false }));
    // What changed while it was read, on top, in order. One that asks for a refetch (no
    // detail, or a gap) finds this read still in flight and queues it for after the pause below.
    const during = held;
    held = [];
    during.forEach(applyChange);
  } catch (e) {
    reading = false;
    held = [];
    failedAt = Date.now();
    store.update((s) => ({ ...s, error: errorText(e), loading: false }));
  } finally {
    // A burst of changes (an evacuation) costs one refetch per MIN_INTERVAL_MS, not one each.
    setTimeout(() => {
      inFlight = false;
      if (again) {
        again = false;
        void refreshInventory();
      }
    }, MIN_INTERVAL_MS);
  }
}

/**
 * Starts loading (once): main.tsx calls it before the console's code is loaded, so the first
 * part is on its way while it loads. `drawn`: what the rest of the inventory waits for after
 * the first part (main.tsx: the first screen drawn with it), so that its answer, twenty times
 * the first part's size, is neither built by the server nor read here while the console
 * loads and draws; it is asked for even if `drawn` fails.
 */
export function startInventory(drawn?: Promise<unknown>): void {
  if (started) return;
  started = true;
  if (drawn) firstDrawn = drawn.catch(() => undefined);
  ferry.on('inventory:changed', (change) => {
    if (reading) held.push(change);
    else applyChange(change);
  });
  // The changes pushed while the connection was down are lost: read the inventory again.
  onReconnect(() => {
    fromScratch = true;
    void refreshInventory();
  });
  void refreshInventory();
}

/**
 * Settles when the first screen's hosts are here or could not be fetched, or after `maxMs`:
 * what boot.tsx waits for before it draws the console, so that it is drawn once with them.
 */
export function firstScreen(maxMs: number): Promise<void> {
  const here = () => store.get().index !== null || store.get().error !== null;
  if (here()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, maxMs);
    const unsubscribe = store.subscribe(() => {
      if (here()) done();
    });
  });
}

export function useInventory(): InventoryState {
  startInventory();
  return useSyncExternalStore(store.subscribe, store.get);
}

/**
 * The inventory for a view that draws much of it (the map): each change is rendered as a
 * transition, which React does in slices between frames, so that a patch of a few thousand
 * VMs measured again does not hold up scrolling or a drag. What it shows may lag the store
 * by the frames the render takes.
 */
export function useInventoryInTransitions(): InventoryState {
  startInventory();
  const [state, setState] = useState(store.get);
  useEffect(() => {
    setState(store.get()); // what changed between the first render and now
    return store.subscribe(() => startTransition(() => setState(store.get())));
  }, []);
  return state;
}
