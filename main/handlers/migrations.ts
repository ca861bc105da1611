import type { MigrationEngine } from '../engine/engine';
import type { Handlers } from '../router';
import type { Store } from '../store/store';

type MigrationChannels =
  | 'migrations:predict'
  | 'migrations:destinations'
  | 'migrations:start'
  | 'migrations:active'
  | 'migrations:cancel'
  | 'migrations:postcopy';

export const migrationHandlers = (engine: MigrationEngine, store: Pick<Store, 'audit'>, actor: string): Pick<Handlers, MigrationChannels> => ({
  'migrations:predict': async (r) => {
    await engine.freshen([r.vm]);
    return engine.predict(r.vm, r.to, r.strategy, r.policy);
  },
  'migrations:destinations': async (r) => {
    await engine.freshen([r.vm]);
    return engine.destinations(r.vm);
  },
  'migrations:start': async (r) => {
    store.audit(actor, 'migrate', { vms: r.vms, to: r.to, strategy: r.strategy, policy: r.policy ?? {} });
    await engine.freshen(r.vms);
    return engine.start(r);
  },
  'migrations:active': () => engine.active(),
  'migrations:cancel': (r) => {
    store.audit(actor, 'cancel', { id: r.id });
    return engine.cancel(r.id, actor);
  },
  'migrations:postcopy': (r) => {
    store.audit(actor, 'postcopy', { id: r.id });
    return engine.postcopy(r.id, actor);
  },
});
