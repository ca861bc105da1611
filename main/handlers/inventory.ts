import type { Handlers } from '../router';
import type { InventoryService } from '../services/inventory';

export const inventoryHandlers = (inventory: InventoryService): Pick<Handlers, 'inventory:get'> => ({
  'inventory:get': () => inventory.get(),
});
