import { useState } from 'react';
import { useActiveIds } from '../state/progress';
import { CompactRow } from './active-row';

const DOCK_ROWS = 40;

/** A compact dock over the bottom of the map: collapsed to one line, expands upward. */
export function ActiveDock() {
  const ids = useActiveIds();
  const [open, setOpen] = useState(true);
  if (!ids.length) return null;
  return (
    <section className={open ? 'dock open' : 'dock'} aria-label="Active migrations" data-testid="active-dock">
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
