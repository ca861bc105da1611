import type { MigrationEngine } from '../engine/engine';
import type { Handlers } from '../router';
import { StoreWriteError, type Store } from '../store/store';

type MigrationChannels =
  | 'migrations:predict'
  | 'migrations:destinations'
  | 'migrations:start'
  | 'migrations:active'
  | 'migrations:cancel'
  | 'migrations:postcopy';

export const migrationHandlers = (engine: MigrationEngine, store: Pick<Store, 'audit'>, actor: string): Pick<Handlers, MigrationChannels> => {
  // The action is done by then: a disk that refuses the row (the store told it) does not undo it.
  const audit = (action: string, detail: Record<string, unknown>) => {
    try {
      store.audit(actor, action, detail);
    } catch (e) {
      if (!(e instanceof StoreWriteError)) throw e;
    }
  };
  return {
    'migrations:predict': async (r) => {
      await engine.freshen([r.vm]);
      return engine.predict(r.vm, r.to, r.strategy, r.policy);
    },
    'migrations:destinations': async (r) => {
      await engine.freshen([r.vm]);
      return engine.destinations(r.vm);
    },
    // Audited once the engine accepted the request: a refused one changes nothing, and
    // leaves no row (the rows of those refused could fill a disk).
    'migrations:start': async (r) => {
      await engine.freshen(r.vms);
      const started = engine.start(r);
      audit('migrate', { ids: started.map((m) => m.id), vms: r.vms, to: r.to, strategy: r.strategy, policy: r.policy ?? {} });
      return started;
    },
    'migrations:active': () => engine.active(),
    'migrations:cancel': (r) => {
      const rec = engine.cancel(r.id, actor);
      audit('cancel', { id: r.id });
      return rec;
    },
    'migrations:postcopy': (r) => {
      const p = engine.postcopy(r.id, actor);
      audit('postcopy', { id: r.id });
      return p;
    },
  };
};
