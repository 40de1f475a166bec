// The one action of a confirm or edit dialog (delete, rename, re-split): busy while it runs; on success the
// dialog closes, on failure it stays open with the error.
import { errorMessage } from './types';

export class DialogAction {
  busy = $state(false);
  error = $state<string | null>(null);

  /** Runs `action`, then `onclose`; an error is kept in `error` and the dialog stays open. */
  async run(action: () => Promise<void>, onclose: () => void): Promise<void> {
    this.busy = true;
    try {
      await action();
      onclose();
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.busy = false;
    }
  }
}
