// The main screen: clusters -> racks -> hosts, each host with its VMs. Rows are
// virtualised, so React only renders what is on screen (2,500 hosts, 40,000 VMs).
import { lazy, memo, Suspense, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type ReactNode, type RefObject } from 'react';
import { DndContext, DragOverlay } from '@dnd-kit/core';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import { ActiveDock } from '../active/active-dock';
import { useWidth } from '../components/use-width';
import { refreshInventory, useInventoryInTransitions, type InventoryIndex } from '../state/inventory';
import { computeMatches, EMPTY_FILTER, type MapFilter, type Matches } from './filter';
import { HostCard, type DragInfo } from './host-card';
import { buildLayout, chipsPerLine, columnsFor, estimateHeight, type MapItem, type MapLayout } from './layout';
import { MapLegend } from './legend';
import { MapToolbar } from './map-toolbar';
import { useSelection } from './selection';
import { useMapDrag } from './use-map-drag';
import type { DropRequest } from '../migrate/migrate-dialog';
import { difficultyOf } from './difficulty';
import type { Vm } from '../../../preload/model';
import type { Destination } from '../../../preload/contract';

/** The map scrolls while a VM is held within a tenth of its height of the top or bottom
 *  edge (dnd-kit's default is a fifth: holding a VM over a host in the lowest row of the
 *  screen scrolled that host away from under it). */
const AUTO_SCROLL = { threshold: { x: 0, y: 0.1 } };

/** Loaded with the first drop (with the policy's schemas, which the map does not need before). */
const MigrateDialog = lazy(() => import('../migrate/migrate-dialog').then((m) => ({ default: m.MigrateDialog })));

const EMPTY_LAYOUT: MapLayout = { items: [], order: [], pos: new Map() };
const NO_VMS: Vm[] = [];

export function ClusterMap() {
  const { index, error, complete, loading, expected } = useInventoryInTransitions();
  const [filter, setFilter] = useState<MapFilter>(EMPTY_FILTER);
  const deferred = useDeferredValue(filter);
  const matches = useMemo(() => (index ? computeMatches(index, deferred) : null), [index, deferred]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const width = useWidth(scrollRef);
  // No rows before the map's width is known (it is measured before the first paint): they
  // would be laid out once in one column for nothing.
  const measured = width > 0;
  const columns = columnsFor(width);
  const perLine = chipsPerLine(width, columns);
  const hideOthers = deferred.onlyMatches ? matches : null;
  // The layout holds hosts' places, not their figures: a patch of figures keeps it.
  const indexRef = useRef(index);
  indexRef.current = index;
  const shape = index?.shape ?? null;
  const layout = useMemo(
    () => (indexRef.current && measured ? buildLayout(indexRef.current, columns, hideOthers ? (h) => hideOthers.hosts.has(h.id) : () => true) : EMPTY_LAYOUT),
    [shape, measured, columns, hideOthers],
  );
  const layoutRef = useRef<MapLayout | null>(layout);
  layoutRef.current = layout;

  const vmOrder = useCallback(
    () => (index ? layoutRef.current!.order.flatMap((h) => (index.vmsByHost.get(h) ?? []).map((v) => v.id)) : []),
    [index],
  );
  const { selected, select, clear, prune } = useSelection(vmOrder);
  useEffect(() => {
    if (index) prune((id) => index.vmById.has(id));
  }, [index, prune]);

  const [dialog, setDialog] = useState<DropRequest | null>(null);
  const drag = useMapDrag({ index, layoutRef, scrollRef, selected, onDrop: setDialog });
  const lifted = useMemo(() => (drag.active ? new Set(drag.active.vmIds) : null), [drag.active]);

  // Keep the dragged chip's row mounted even when scrolled away, so dnd-kit keeps its node.
  const sourceItem = drag.active ? layout.pos.get(drag.active.source)?.item : undefined;
  const scrollToItem = useRef<((item: number) => void) | null>(null);

  const matchCursor = useRef(-1);
  const nextMatch = useCallback(() => {
    if (!matches) return;
    const order = layoutRef.current!.order;
    for (let k = 1; k <= order.length; k++) {
      const i = (matchCursor.current + k) % order.length;
      if (matches.hosts.has(order[i]!)) {
        matchCursor.current = i;
        const pos = layoutRef.current!.pos.get(order[i]!);
        if (pos) scrollToItem.current?.(pos.item);
        return;
      }
    }
  }, [matches]);
  useEffect(() => {
    matchCursor.current = -1;
  }, [matches]);

  const totals = useMemo(
    () => ({
      hosts: index?.inventory.hosts.length ?? 0,
      vms: index?.inventory.vms.length ?? 0,
      complete,
      expectedHosts: expected?.hosts ?? null,
      // The first part is on screen and the rest failed: said in the toolbar, with Retry.
      restFailed: index && !complete && !loading ? error : null,
    }),
    [index, complete, loading, expected, error],
  );
  const matchCounts = matches ? { hosts: matches.hosts.size, vms: matches.vms.size } : null;

  return (
    <div
      className="map-view"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !drag.active && selected.size) clear();
      }}
    >
      <MapToolbar
        filter={filter}
        onChange={setFilter}
        clusters={index?.inventory.clusters ?? []}
        hosts={index?.inventory.hosts ?? []}
        totals={totals}
        onRetry={() => void refreshInventory()}
        matches={matchCounts}
        selectedCount={selected.size}
        onClearSelection={clear}
        onNextMatch={nextMatch}
      />
      <MapLegend dragging={drag.active !== null} />
      <DndContext
        sensors={drag.sensors}
        collisionDetection={drag.collisionDetection}
        onDragStart={drag.onDragStart}
        onDragEnd={drag.onDragEnd}
        onDragCancel={drag.onDragCancel}
        autoScroll={AUTO_SCROLL}
        accessibility={{
          announcements: drag.announcements,
          screenReaderInstructions: {
            draggable:
              'To move a VM to another host, press Space or Enter to pick it up, use the arrow keys to go from host to host, then Space or Enter to drop it, or Escape to cancel. Ctrl+Space adds a VM to the selection.',
          },
        }}
      >
        <MapCanvas
          scrollRef={scrollRef}
          dragging={drag.active !== null}
          layout={layout}
          perLine={perLine}
          sourceItem={sourceItem}
          scrollToItem={scrollToItem}
          columns={columns}
          index={index}
          matches={matches}
          highlightChips={deferred.text.trim() !== ''}
          dests={drag.dests}
          dragInfo={drag.dragInfo}
          selected={selected}
          lifted={lifted}
          onSelect={select}
        >
          {error && !index && (
            <div className="notice bad">
              Could not load the inventory: {error}{' '}
              <button type="button" className="btn small" onClick={() => void refreshInventory()}>
                Retry
              </button>
            </div>
          )}
          {!index && !error && <div className="empty">Loading the inventory…</div>}
          {index && measured && layout.items.length === 0 && <div className="empty">No host matches these filters.</div>}
        </MapCanvas>
        <DragOverlay dropAnimation={null}>
          {drag.active && index ? <DragGhost index={index} vmIds={drag.active.vmIds} lead={drag.active.lead} /> : null}
        </DragOverlay>
      </DndContext>
      <ActiveDock />
      {dialog && index && (
        <Suspense fallback={null}>
          <MigrateDialog request={dialog} index={index} onClose={() => setDialog(null)} />
        </Suspense>
      )}
    </div>
  );
}

interface RowProps {
  columns: number;
  index: InventoryIndex | null;
  matches: Matches | null;
  highlightChips: boolean;
  dests: Map<string, Destination>;
  dragInfo: DragInfo;
  selected: Set<string>;
  lifted: Set<string> | null;
  onSelect: Parameters<typeof HostCard>[0]['onSelect'];
}

interface CanvasProps extends RowProps {
  scrollRef: RefObject<HTMLDivElement | null>;
  dragging: boolean;
  layout: MapLayout;
  perLine: number;
  /** An item kept mounted wherever the map is scrolled (the dragged chip's row). */
  sourceItem: number | undefined;
  /** Set here: scrolls an item to the middle of the map. */
  scrollToItem: RefObject<((item: number) => void) | null>;
  children: ReactNode;
}

/**
 * Items drawn beyond the screen's edges, either way, so that a scroll finds them there.
 * None in the map's first frame: a screen at 1440 x 900 shows 6 host cards, and with them
 * 18 would be rendered, laid out and painted before it appears.
 */
const OVERSCAN = 4;

/** False until the component's first frame is painted (a task queued from the frame runs after it). */
function usePainted(): boolean {
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setPainted(true), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, []);
  return painted;
}

/**
 * The scrolling part of the map, on its own so that scrolling renders only it: the
 * virtualiser's state changes with each row that comes into view, and rows whose props did
 * not change (memo) are not rendered again, nor are the toolbar, legend and dock above.
 */
const MapCanvas = memo(function MapCanvas({ scrollRef, dragging, layout, perLine, sourceItem, scrollToItem, children, ...row }: CanvasProps) {
  const rangeExtractor = useCallback(
    (range: Range) => {
      const r = defaultRangeExtractor(range);
      if (sourceItem !== undefined && !r.includes(sourceItem)) {
        r.push(sourceItem);
        r.sort((a, b) => a - b);
      }
      return r;
    },
    [sourceItem],
  );
  const painted = usePainted();
  const virt = useVirtualizer({
    count: layout.items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimateHeight(layout.items[i]!, perLine),
    getItemKey: (i) => layout.items[i]!.key,
    overscan: painted ? OVERSCAN : 0,
    rangeExtractor,
    // Rows that come into view render in the frame's task, not inside the scroll event.
    useFlushSync: false,
  });
  scrollToItem.current = (item) => virt.scrollToIndex(item, { align: 'center' });
  const index = row.index;
  return (
    <div className={dragging ? 'map-scroll dragging' : 'map-scroll'} ref={scrollRef} data-testid="cluster-map">
      {children}
      <div className="map-canvas" style={{ height: virt.getTotalSize() }}>
        {index &&
          virt.getVirtualItems().map((vi) => (
            <div key={vi.key} data-index={vi.index} ref={virt.measureElement} className="map-item" style={{ transform: `translateY(${vi.start}px)` }}>
              <MapRow item={layout.items[vi.index]!} {...row} index={index} />
            </div>
          ))}
      </div>
    </div>
  );
});

const MapRow = memo(function MapRow({ item, columns, index, matches, highlightChips, dests, dragInfo, selected, lifted, onSelect }: RowProps & { item: MapItem; index: InventoryIndex }) {
  if (item.kind === 'cluster') {
    return (
      <h2 className="map-cluster">
        {item.name}
        <span className="muted">
          {item.hosts} hosts · {item.vms} VMs
        </span>
      </h2>
    );
  }
  if (item.kind === 'rack') {
    return (
      <h3 className="map-rack">
        Rack {item.rack}
        <span className="muted">{item.hosts} hosts</span>
      </h3>
    );
  }
  return (
    <div className="host-row" style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}>
      {item.hostIds.map((id) => (
        <HostCard
          key={id}
          host={index.hostById.get(id)!}
          vms={index.vmsByHost.get(id) ?? NO_VMS}
          dest={dests.get(id)}
          drag={dragInfo}
          dimmed={matches !== null && !matches.hosts.has(id)}
          vmMatches={matches ? matches.vms : null}
          highlightChips={highlightChips}
          selected={selected}
          lifted={lifted}
          onSelect={onSelect}
        />
      ))}
    </div>
  );
});

function DragGhost({ index, vmIds, lead }: { index: InventoryIndex; vmIds: string[]; lead: string }) {
  const vm = index.vmById.get(lead);
  if (!vm) return null;
  const d = difficultyOf(vm.workload.dirtyMiBps);
  return (
    <div className={`chip ghost d${d.level}`} data-testid="drag-ghost">
      <span className="dot" aria-hidden="true" />
      <span className="name">{vm.name}</span>
      {vmIds.length > 1 && <span className="more">+{vmIds.length - 1}</span>}
    </div>
  );
}
