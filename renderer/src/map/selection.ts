// Multi-select of VM chips: click selects one, ctrl/cmd-click toggles, shift-click
// selects the range from the last clicked chip in map order.
import { useCallback, useRef, useState } from 'react';
import type { Vm } from '../../../preload/model';
import type { SelectMode } from './vm-chip';

export function useSelection(vmOrder: () => string[]) {
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const anchor = useRef<string | null>(null);
  const orderRef = useRef(vmOrder);
  orderRef.current = vmOrder;

  const select = useCallback((vm: Vm, mode: SelectMode) => {
    setSelected((prev) => {
      if (mode === 'toggle') {
        const next = new Set(prev);
        if (next.has(vm.id)) next.delete(vm.id);
        else next.add(vm.id);
        anchor.current = vm.id;
        return next;
      }
      if (mode === 'range' && anchor.current && anchor.current !== vm.id) {
        const order = orderRef.current();
        const a = order.indexOf(anchor.current);
        const b = order.indexOf(vm.id);
        if (a >= 0 && b >= 0) {
          const next = new Set(prev);
          for (let i = Math.min(a, b); i <= Math.max(a, b); i++) next.add(order[i]!);
          return next;
        }
      }
      anchor.current = vm.id;
      return prev.size === 1 && prev.has(vm.id) ? new Set() : new Set([vm.id]);
    });
  }, []);

  const clear = useCallback(() => {
    anchor.current = null;
    setSelected(new Set());
  }, []);

  /** Drops ids that no longer exist (after the inventory changed). */
  const prune = useCallback((exists: (id: string) => boolean) => {
    setSelected((prev) => {
      const next = new Set([...prev].filter(exists));
      return next.size === prev.size ? prev : next;
    });
  }, []);

  return { selected, select, clear, prune };
}
