import type { Handlers } from '../router';
import type { InventoryService } from '../services/inventory';

// An answer's version covers every figure in it: what the drivers measured since the last
// poll is announced (the version moves on, and its patch follows) before the answer is
// built, so a console that has applied the patches up to that version shows the same.
export const inventoryHandlers = (inventory: InventoryService): Pick<Handlers, 'inventory:get' | 'inventory:part'> => ({
  'inventory:get': () => {
    inventory.pollFigures();
    return inventory.get();
  },
  'inventory:part': ({ from, count }) => {
    inventory.pollFigures();
    return inventory.part(from, count);
  },
});
