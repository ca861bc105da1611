import type { FerryApp } from '../app';
import type { Handlers } from '../router';

type MigrationChannels =
  | 'migrations:predict'
  | 'migrations:destinations'
  | 'migrations:start'
  | 'migrations:active'
  | 'migrations:cancel'
  | 'migrations:postcopy';

export const migrationHandlers = (app: FerryApp, actor: string): Pick<Handlers, MigrationChannels> => ({
  'migrations:predict': (r) => app.engine.predict(r.vm, r.to, r.strategy, r.policy),
  'migrations:destinations': (r) => app.engine.destinations(r.vm),
  'migrations:start': (r) => {
    app.store.audit(actor, 'migrate', { vms: r.vms, to: r.to, strategy: r.strategy, policy: r.policy ?? {} });
    return app.engine.start(r);
  },
  'migrations:active': () => app.engine.active(),
  'migrations:cancel': (r) => {
    app.store.audit(actor, 'cancel', { id: r.id });
    return app.engine.cancel(r.id, actor);
  },
  'migrations:postcopy': (r) => {
    app.store.audit(actor, 'postcopy', { id: r.id });
    return app.engine.postcopy(r.id, actor);
  },
});
