/** Maintenance planning is not built yet: say so plainly rather than show made-up data. */
export function MaintenanceView() {
  return (
    <div className="view" data-testid="maintenance-view">
      <div className="panel panel-body placeholder">
        <h3>Coming in a later release</h3>
        <p>
          Planning a host evacuation — placement by capacity and anti-affinity, order, per-VM ETA, blockers, a preview, a scheduled start, concurrency limits,
          pause and cancel, and a report — is not available in this version of Ferry.
        </p>
        <p className="muted">
          Until then, move VMs off a host from the <a href="#/map">cluster map</a>: select several VMs with Ctrl/Cmd-click or Shift-click and drag them
          together onto another host.
        </p>
      </div>
    </div>
  );
}
