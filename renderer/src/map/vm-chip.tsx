import { memo, useMemo, type KeyboardEvent, type MouseEvent } from 'react';
import { useDraggable } from '@dnd-kit/core';
import type { Vm } from '../../../preload/model';
import { formatMiB, formatMiBShort, formatRate } from '../format';
import { difficultyOf, LINK_10GBE_MIBPS } from './difficulty';

export type SelectMode = 'only' | 'toggle' | 'range';

interface Props {
  vm: Vm;
  selected: boolean;
  dimmed: boolean;
  /** A search hit: outlined. */
  matched: boolean;
  /** Part of the VMs being dragged right now. */
  lifted: boolean;
  onSelect(vm: Vm, mode: SelectMode): void;
}

export function vmSummary(vm: Vm): string {
  const d = difficultyOf(vm.workload.dirtyMiBps);
  const pct = Math.round((vm.workload.dirtyMiBps / LINK_10GBE_MIBPS) * 100);
  return `${vm.name}: ${formatMiB(vm.memoryMiB)}, ${vm.vcpus} vCPU, ${vm.state}; dirties ${formatRate(vm.workload.dirtyMiBps)} (${pct} % of 10 GbE): ${d.label.toLowerCase()} to migrate`;
}

/** What a chip shows: made once per VM object, not at each render. */
const ChipFace = memo(function ChipFace({ vm }: { vm: Vm }) {
  return (
    <>
      <span className="dot" aria-hidden="true" />
      <span className="name">{vm.name}</span>{' '}
      <span className="mem">{formatMiBShort(vm.memoryMiB)}</span>
    </>
  );
});

/**
 * A VM on the map: click to select, drag (pointer or keyboard) to migrate. dnd-kit renders
 * every draggable again when a drag starts or goes over another host: what it computes
 * from the VM is made once per VM object (useMemo, ChipFace), so those renders stay cheap.
 */
export const VmChip = memo(function VmChip({ vm, selected, dimmed, matched, lifted, onSelect }: Props) {
  const movable = vm.state === 'running' || vm.state === 'paused';
  const { attributes, listeners, setNodeRef } = useDraggable({
    id: vm.id,
    data: { vmId: vm.id, host: vm.host },
    disabled: !movable,
    attributes: { roleDescription: 'draggable VM' },
  });
  const words = useMemo(() => {
    const d = difficultyOf(vm.workload.dirtyMiBps);
    return {
      level: d.level,
      title: vmSummary(vm),
      // Starts with the chip's visible words (name and short size), as speech input users say them.
      label: `${vm.name} ${formatMiBShort(vm.memoryMiB)} (${formatMiB(vm.memoryMiB)}), ${d.label.toLowerCase()} to migrate${vm.state !== 'running' ? `, ${vm.state}` : ''}`,
    };
  }, [vm]);
  const onClick = (e: MouseEvent) => {
    onSelect(vm, e.shiftKey ? 'range' : e.ctrlKey || e.metaKey ? 'toggle' : 'only');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>) => {
    // Ctrl/Cmd+Space adds to the selection without picking up; plain Space/Enter picks up.
    if ((e.key === ' ' || e.key === 'Enter') && (e.ctrlKey || e.metaKey || e.shiftKey)) {
      e.preventDefault();
      onSelect(vm, e.shiftKey ? 'range' : 'toggle');
      return;
    }
    listeners?.onKeyDown?.(e);
  };
  const cls = ['chip', `d${words.level}`, vm.state];
  if (selected) cls.push('selected');
  if (dimmed) cls.push('dim');
  if (matched) cls.push('match');
  if (lifted) cls.push('lifted');
  return (
    <button
      type="button"
      ref={setNodeRef}
      className={cls.join(' ')}
      data-testid={`vm-${vm.id}`}
      title={words.title}
      {...attributes}
      {...listeners}
      onKeyDown={onKeyDown}
      onClick={onClick}
      aria-pressed={selected}
      aria-label={words.label}
    >
      <ChipFace vm={vm} />
    </button>
  );
});
