import type { FerryApp } from '../app';
import type { Handlers } from '../router';

export const inventoryHandlers = (app: FerryApp): Pick<Handlers, 'inventory:get'> => ({
  'inventory:get': () => app.inventory(),
});
