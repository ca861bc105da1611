import { DIFFICULTY, LINK_10GBE_MIBPS } from './difficulty';

/** What the chip colours and the drag verdict colours mean. One line, so nothing jumps. */
export function MapLegend({ dragging }: { dragging: boolean }) {
  return (
    <div className="map-legend" aria-label="Legend">
      <span className="lg-title" title={`Dirty rate relative to a 10 GbE link (${LINK_10GBE_MIBPS} MiB/s)`}>
        Difficulty <span className="muted">(dirty MiB/s)</span>
      </span>
      {DIFFICULTY.map((d, i) => {
        const lo = Math.round((DIFFICULTY[i - 1]?.below ?? 0) * LINK_10GBE_MIBPS);
        const hi = Number.isFinite(d.below) ? Math.round(d.below * LINK_10GBE_MIBPS) : null;
        return (
          <span key={d.level} className="lg-item" title={`${d.label}: ${d.words}`}>
            <i className={`lg-dot d${d.level}`} aria-hidden="true" />
            {d.label}
            <span className="muted">{hi === null ? `≥${lo}` : `<${hi}`}</span>
          </span>
        );
      })}
      <span className="lg-sep" aria-hidden="true" />
      <span className={dragging ? 'lg-title' : 'lg-title muted'}>While dragging</span>
      <span className="lg-item" title="Pre-copy converges within the downtime limit">
        <i className="lg-box green" aria-hidden="true" />
        converges
      </span>
      <span className="lg-item" title="Only with post-copy or hybrid, or slow">
        <i className="lg-box amber" aria-hidden="true" />
        slow / post-copy
      </span>
      <span className="lg-item" title="Cannot take the VM: the reason shows on the host">
        <i className="lg-box red" aria-hidden="true" />
        cannot
      </span>
    </div>
  );
}
