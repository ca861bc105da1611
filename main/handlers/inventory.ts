import type { Handlers } from '../router';
import type { InventoryService } from '../services/inventory';

export const inventoryHandlers = (inventory: InventoryService): Pick<Handlers, 'inventory:get' | 'inventory:part'> => ({
  'inventory:get': () => inventory.get(),
  'inventory:part': ({ from, count }) => inventory.part(from, count),
});
