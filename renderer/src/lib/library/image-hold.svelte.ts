// A virtual grid cell's image request: held while the grid is flung past (`fast`), sent once the cell is
// really looked at, and kept from then on (scrolling fast again does not drop a loaded image).
import { untrack } from 'svelte';

export class ImageHold {
  shown = $state(false);

  /** Call during a cell's setup, with a getter of its `fast` prop. */
  constructor(fast: () => boolean) {
    this.shown = untrack(() => !fast());
    $effect(() => {
      if (!fast()) {
        this.shown = true;
      }
    });
  }
}
