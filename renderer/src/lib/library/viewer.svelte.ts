// The large view: which image of the gallery's current list is open, its full details, and arrow moves.
import { call } from '../api';
import type { GalleryState } from './gallery.svelte';
import { errorMessage, type ImageChange, type ImageDetail } from './types';

/** One open image in the large view, moving through the gallery's filtered list. */
export class ViewerState {
  /** Position in the filtered list; null when the viewer is closed. */
  index = $state<number | null>(null);
  /** Id of the image shown (stays right while the list is re-fetched behind it). */
  id = $state<number | null>(null);
  detail = $state<ImageDetail | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  readonly #gallery: GalleryState;
  readonly #onedit: () => void;
  #request = 0;

  /** `onedit` runs after each saved change (to refresh the dataset's counts). */
  constructor(gallery: GalleryState, onedit: () => void = () => undefined) {
    this.#gallery = gallery;
    this.#onedit = onedit;
  }

  /** Opens the image at `index` of the gallery's list. */
  async open(index: number): Promise<void> {
    const item = await this.#gallery.ensure(index);
    if (!item) {
      return;
    }
    this.index = index;
    this.id = item.id;
    await this.#load(item.id);
  }

  /** True when the open image is no longer in the gallery's filtered list (an edit moved it out of the filter). */
  get leftList(): boolean {
    const total = this.#gallery.total;
    if (this.index === null || total === null) {
      return false;
    }
    const here = this.#gallery.item(this.index);
    return this.index >= total || (here !== undefined && here.id !== this.id);
  }

  /** Closes the large view. */
  close(): void {
    this.index = null;
    this.id = null;
    this.detail = null;
    this.error = null;
  }

  /** Moves by `step` in the list. If the open image left the list (an edit), "next" is what took its place. */
  async move(step: 1 | -1): Promise<void> {
    if (this.index === null) {
      return;
    }
    const here = await this.#gallery.ensure(this.index);
    const stillHere = here?.id === this.id;
    const target = step === 1 ? (stillHere ? this.index + 1 : this.index) : this.index - 1;
    const total = this.#gallery.total ?? 0;
    if (target < 0 || target >= total) {
      return;
    }
    await this.open(target);
  }

  /** Applies a change to the open image and shows the result. */
  async apply(change: ImageChange, className?: string): Promise<void> {
    if (this.id === null) {
      return;
    }
    this.busy = true;
    try {
      await this.#gallery.update([this.id], change, className);
      this.#onedit();
      await this.#load(this.id);
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.busy = false;
    }
  }

  async #load(id: number): Promise<void> {
    const request = ++this.#request;
    try {
      const detail = await call('images.get', { id });
      if (request === this.#request) {
        this.detail = detail;
        this.error = null;
      }
    } catch (err) {
      if (request === this.#request) {
        this.error = errorMessage(err);
      }
    }
  }
}
