// Drag and drop on the map (dnd-kit): pointer and keyboard sensors, destinations fetched
// once per drag, keyboard moves that step host by host in map order, and what happens on
// drop (refuse a red host with its reason, or open the migrate dialog).
import { useCallback, useMemo, useRef, useState, type RefObject } from 'react';
import {
  KeyboardSensor,
  PointerSensor,
  pointerWithin,
  useSensor,
  useSensors,
  type Announcements,
  type CollisionDetection,
  type DragEndEvent,
  type DragStartEvent,
  type KeyboardCoordinateGetter,
} from '@dnd-kit/core';
import type { Destination } from '../../../preload/contract';
import { ferry } from '../api';
import { errorText, formatMs } from '../format';
import type { InventoryIndex } from '../state/inventory';
import { toast } from '../state/toasts';
import type { DragInfo } from './host-card';
import { neighbour, type MapLayout } from './layout';
import type { DropRequest } from '../migrate/migrate-dialog';

export interface ActiveDrag {
  vmIds: string[];
  lead: string;
  source: string;
}


interface Options {
  index: InventoryIndex | null;
  layoutRef: RefObject<MapLayout | null>;
  scrollRef: RefObject<HTMLDivElement | null>;
  selected: Set<string>;
  onDrop(req: DropRequest): void;
}

const EDGE_MARGIN = 24;
const POINTER_OPTIONS = { activationConstraint: { distance: 6 } };

/** Scrolls the map (instantly) so that `node` is inside it with a margin. */
function reveal(node: HTMLElement, scroller: HTMLElement | null) {
  if (!scroller) return;
  const r = node.getBoundingClientRect();
  const s = scroller.getBoundingClientRect();
  if (r.top < s.top + EDGE_MARGIN) scroller.scrollTop -= s.top + EDGE_MARGIN - r.top;
  else if (r.bottom > s.bottom - EDGE_MARGIN) {
    scroller.scrollTop += Math.min(r.bottom - (s.bottom - EDGE_MARGIN), r.top - (s.top + EDGE_MARGIN));
  }
}

export function useMapDrag({ index, layoutRef, scrollRef, selected, onDrop }: Options) {
  const [active, setActive] = useState<ActiveDrag | null>(null);
  const [dragInfo, setDragInfo] = useState<DragInfo>({ phase: 'idle' });
  const [dests, setDests] = useState<Map<string, Destination>>(() => new Map());
  const keyboardTarget = useRef<string | null>(null);
  const activeRef = useRef<ActiveDrag | null>(null);
  const destsRef = useRef(dests);
  destsRef.current = dests;
  const indexRef = useRef(index);
  indexRef.current = index;
  const seq = useRef(0);

  // Arrow keys step through hosts in reading order (left/right) or rows (up/down),
  // rather than dnd-kit's default of moving the overlay 25 px at a time.
  const coordinateGetter = useCallback<KeyboardCoordinateGetter>(
    (event, { context, currentCoordinates }) => {
      const layout = layoutRef.current;
      const drag = activeRef.current;
      if (!layout || !drag) return undefined;
      const next = neighbour(layout, keyboardTarget.current ?? drag.source, event.code);
      if (!next) return undefined;
      event.preventDefault();
      keyboardTarget.current = next;
      const node = context.droppableContainers.get(next)?.node.current;
      if (!node) return { x: currentCoordinates.x, y: currentCoordinates.y + 1 };
      reveal(node, scrollRef.current);
      const r = node.getBoundingClientRect();
      // Over the card's footer, so the predicted numbers stay readable.
      return { x: r.left + 12, y: r.bottom - 30 };
    },
    [layoutRef, scrollRef],
  );

  // Options of the same identity from render to render: new ones would make new sensors,
  // and dnd-kit's context would change, rendering every chip on the map again.
  const keyboardOptions = useMemo(() => ({ coordinateGetter, scrollBehavior: 'auto' as const }), [coordinateGetter]);
  const sensors = useSensors(useSensor(PointerSensor, POINTER_OPTIONS), useSensor(KeyboardSensor, keyboardOptions));

  // Pointer drags: the host under the pointer. Keyboard drags have no pointer: the host
  // the arrow keys reached.
  const collisionDetection = useCallback<CollisionDetection>((args) => {
    if (!args.pointerCoordinates) {
      const id = keyboardTarget.current;
      return id && args.droppableContainers.some((c) => c.id === id) ? [{ id }] : [];
    }
    return pointerWithin(args);
  }, []);

  const onDragStart = useCallback(
    (e: DragStartEvent) => {
      const idx = indexRef.current;
      const lead = String(e.active.id);
      const vm = idx?.vmById.get(lead);
      if (!idx || !vm) return;
      const ids = selected.has(lead) ? [...selected].filter((id) => idx.vmById.has(id)) : [lead];
      const drag = { vmIds: ids.includes(lead) ? ids : [lead, ...ids], lead, source: vm.host };
      activeRef.current = drag;
      keyboardTarget.current = null;
      setActive(drag);
      setDests(new Map());
      setDragInfo({ phase: 'loading', source: vm.host });
      const mine = ++seq.current;
      ferry.migrations.destinations({ vm: lead }).then(
        (list) => {
          if (seq.current !== mine) return;
          setDests(new Map(list.map((d) => [d.host, d])));
          setDragInfo({ phase: 'ready', source: vm.host });
        },
        (err) => {
          if (seq.current !== mine) return;
          setDragInfo({ phase: 'error', source: vm.host, message: errorText(err) });
        },
      );
    },
    [selected],
  );

  const finish = useCallback(() => {
    seq.current++;
    activeRef.current = null;
    keyboardTarget.current = null;
    setActive(null);
    setDragInfo({ phase: 'idle' });
    setDests(new Map());
  }, []);

  const onDragEnd = useCallback(
    (e: DragEndEvent) => {
      const drag = activeRef.current;
      const to = e.over ? String(e.over.id) : null;
      const dest = to ? destsRef.current.get(to) : undefined;
      finish();
      const idx = indexRef.current;
      if (!drag || !to || !idx) return;
      const moving = drag.vmIds.filter((id) => idx.vmById.get(id)?.host !== to);
      if (!moving.length) return; // dropped back where it was
      const host = idx.hostById.get(to);
      if (dest?.verdict === 'red') {
        const vm = idx.vmById.get(drag.lead);
        toast({
          kind: 'error',
          title: `${host?.name ?? to} cannot take ${vm?.name ?? drag.lead}`,
          body: dest.fit.reason ?? dest.reason,
          testId: 'toast-refused',
        });
        return;
      }
      onDrop({ vmIds: moving, to });
    },
    [finish, onDrop],
  );

  const announcements = useMemo<Announcements>(() => {
    const vmName = (id: string | number) => indexRef.current?.vmById.get(String(id))?.name ?? String(id);
    const hostName = (id: string | number) => indexRef.current?.hostById.get(String(id))?.name ?? String(id);
    const more = () => {
      const n = (activeRef.current?.vmIds.length ?? 1) - 1;
      return n > 0 ? ` and ${n} more` : '';
    };
    const verdict = (id: string | number) => {
      const d = destsRef.current.get(String(id));
      if (!d) return '';
      if (d.verdict === 'red') return `: cannot take it, ${d.fit.reason ?? d.reason}`;
      return `: ${d.verdict}, predicted downtime ${formatMs(d.downtimeMs)}, total ${formatMs(d.totalMs)}`;
    };
    return {
      onDragStart: ({ active: a }) =>
        `Picked up VM ${vmName(a.id)}${more()}. Arrow keys move between hosts, Space or Enter drops, Escape cancels.`,
      onDragOver: ({ over }) => (over ? `Over host ${hostName(over.id)}${verdict(over.id)}.` : 'Not over a host.'),
      onDragEnd: ({ active: a, over }) =>
        over ? `Dropped VM ${vmName(a.id)} on host ${hostName(over.id)}.` : `Dropped VM ${vmName(a.id)} outside any host.`,
      onDragCancel: ({ active: a }) => `Moving VM ${vmName(a.id)} was cancelled.`,
    };
  }, []);

  return {
    active,
    dragInfo,
    dests,
    sensors,
    collisionDetection,
    announcements,
    onDragStart,
    onDragEnd,
    onDragCancel: finish,
  };
}
