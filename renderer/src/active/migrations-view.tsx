import { useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useActiveCounts, useActiveIds } from '../state/progress';
import { ActiveRow } from './active-row';

const ROW_HEIGHT = 112;

/** Every running and queued migration, virtualised: hundreds can run during an evacuation. */
export function MigrationsView() {
  const ids = useActiveIds();
  const scrollRef = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({
    count: ids.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (i) => ids[i]!,
    overscan: 3,
  });
  const { running, queued } = useActiveCounts();
  return (
    <div className="view migrations-view">
      <div className="view-head">
        <h2>Active migrations</h2>
        <span className="muted">
          {running} running · {queued} queued
        </span>
        <span className="spacer" />
        <a href="#/history">Finished migrations are in History →</a>
      </div>
      {ids.length === 0 ? (
        <div className="panel empty" data-testid="active-empty">
          No migration is running. Drag a VM onto another host on the <a href="#/map">cluster map</a> to start one.
        </div>
      ) : (
        <div className="panel active-scroll" ref={scrollRef} role="list" aria-label="Active migrations" data-testid="active-list">
          <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
            {virt.getVirtualItems().map((vi) => (
              <div key={vi.key} className="active-slot" style={{ transform: `translateY(${vi.start}px)`, height: ROW_HEIGHT }}>
                <ActiveRow id={ids[vi.index]!} />
              </div>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
