import { useEffect, useRef, useState } from 'react';
import { useActiveIds } from '../state/progress';
import { CompactRow } from './active-row';

const DOCK_ROWS = 40;

/** A compact dock over the bottom of the map: collapsed to one line, expands upward. */
export function ActiveDock() {
  const ids = useActiveIds();
  const [open, setOpen] = useState(true);
  const ref = useRef<HTMLElement>(null);
  const shown = ids.length > 0;
  // Notifications stack above the dock, never over its rows and buttons: it says how tall it is.
  useEffect(() => {
    const root = document.documentElement;
    const el = ref.current;
    if (!shown || !el) {
      root.style.removeProperty('--dock-h');
      return;
    }
    const ro = new ResizeObserver(() => root.style.setProperty('--dock-h', `${el.getBoundingClientRect().height + 12}px`));
    ro.observe(el);
    return () => {
      ro.disconnect();
      root.style.removeProperty('--dock-h');
    };
  }, [shown]);
  if (!shown) return null;
  return (
    <section ref={ref} className={open ? 'dock open' : 'dock'} aria-label="Active migrations" data-testid="active-dock">
      <header className="dock-head">
        <button type="button" className="btn small ghost" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? '▾' : '▴'} {ids.length} active {ids.length === 1 ? 'migration' : 'migrations'}
        </button>
        <a href="#/migrations" className="small">
          Open Migrations →
        </a>
      </header>
      {open && (
        <div className="dock-list" role="list">
          {ids.slice(0, DOCK_ROWS).map((id) => (
            <CompactRow key={id} id={id} />
          ))}
          {ids.length > DOCK_ROWS && <p className="muted small">And {ids.length - DOCK_ROWS} more in the Migrations view.</p>}
        </div>
      )}
    </section>
  );
}
