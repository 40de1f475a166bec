// The download of torchvision's ImageNet AlexNet: its state as the engine reports it (models.fetchProgress),
// and the start and cancel buttons' actions.
import { call, on } from '../api';
import { errorMessage } from '../library/types';
import type { PretrainedFetch } from '../../../../src/api/pretrained';

/** Where the ImageNet AlexNet download stands, kept current from the engine's events. */
export class PretrainedDownload {
  state = $state<PretrainedFetch | null>(null);
  error = $state<string | null>(null);

  /** True while bytes arrive or the file is being converted. */
  readonly busy = $derived(this.state?.state === 'downloading' || this.state?.state === 'importing');
  /** Fraction downloaded, or null while the size is unknown. */
  readonly fraction = $derived(this.state?.total ? this.state.received / this.state.total : null);

  /** Follows the download; `ondone` gets the imported model's id. Returns the unsubscribe. */
  start(ondone: (modelId: number) => void): () => void {
    void call('models.fetchStatus', { model: 'imagenet-alexnet' }).then(
      (s) => (this.state = s),
      () => {},
    );
    return on('models.fetchProgress', (p) => {
      this.state = p;
      if (p.state === 'done' && p.modelId !== null) {
        ondone(p.modelId);
      }
    });
  }

  /** Starts (or resumes) the download. */
  async fetch(): Promise<void> {
    this.error = null;
    try {
      this.state = await call('models.fetch', { model: 'imagenet-alexnet' });
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  /** Stops the download; what arrived is kept for a resume. */
  async cancel(): Promise<void> {
    try {
      this.state = await call('models.fetchCancel', { model: 'imagenet-alexnet' });
    } catch (err) {
      this.error = errorMessage(err);
    }
  }
}
