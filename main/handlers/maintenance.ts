import type { MigrationEngine } from '../engine/engine';
import type { Handlers } from '../router';
import type { MaintenanceService } from '../services/maintenance';

type MaintenanceChannels =
  | 'maintenance:plan'
  | 'maintenance:evacuate'
  | 'maintenance:set'
  | 'maintenance:evacuations'
  | 'maintenance:report'
  | 'maintenance:schedule'
  | 'maintenance:schedules'
  | 'maintenance:unschedule'
  | 'maintenance:homePlan'
  | 'maintenance:bringHome'
  | 'maintenance:pause'
  | 'maintenance:resume'
  | 'maintenance:cancel'
  | 'maintenance:consolidate'
  | 'maintenance:consolidateApply';

export const maintenanceHandlers = (engine: MigrationEngine, maintenance: MaintenanceService): Pick<Handlers, MaintenanceChannels> => ({
  'maintenance:plan': (r) => engine.plan(r.hosts),
  'maintenance:evacuate': (r) => maintenance.evacuate(r.hosts),
  'maintenance:set': (r) => maintenance.set(r.host, r.on),
  'maintenance:evacuations': () => maintenance.list(),
  'maintenance:report': (r) => maintenance.report(r.id),
  'maintenance:schedule': (r) => maintenance.schedule(r.hosts, r.at),
  'maintenance:schedules': () => maintenance.schedules(),
  'maintenance:unschedule': (r) => maintenance.unschedule(r.id),
  'maintenance:homePlan': (r) => maintenance.homePlan(r.host),
  'maintenance:bringHome': (r) => maintenance.bringHome(r.host),
  'maintenance:pause': (r) => maintenance.pause(r.id),
  'maintenance:resume': (r) => maintenance.resume(r.id),
  'maintenance:cancel': (r) => maintenance.cancel(r.id, { abortRunning: r.abortRunning }),
  'maintenance:consolidate': (r) => maintenance.consolidate(r),
  'maintenance:consolidateApply': (r) => maintenance.applyConsolidation(r),
});
