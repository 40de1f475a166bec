// The Train form's estimate of a run's duration: a training step of the chosen network timed on the backend the
// run would use (`runs.stepTime`), times the dataset's images and the epochs. Re-measured when a setting that
// changes the step changes; the rest is arithmetic.
import type { Output } from '../../../../src/api/contract';
import { call } from '../api';
import type { DatasetSummary } from '../library/types';
import { errorMessage } from '../library/types';
import type { TrainForm } from './train-form.svelte';

type StepTime = Output<'runs.stepTime'>;

/** Evaluation of an image (forward only) costs about a third of training on it (forward and backward). */
const EVAL_SHARE = 1 / 3;

/** Seconds a run takes: every epoch trains on the train split and evaluates the val split; capped by a time limit. */
export function runSeconds(step: Pick<StepTime, 'secondsPerImage'>, o: { train: number; val: number; epochs: number; timeLimitMinutes: number | null }): number {
  const perEpoch = step.secondsPerImage * (o.train + EVAL_SHARE * o.val);
  const total = perEpoch * o.epochs;
  return o.timeLimitMinutes === null ? total : Math.min(total, o.timeLimitMinutes * 60 + perEpoch);
}

/** The measured step for the form's current network, backend and dataset; `update` asks again when they change. */
export class RunEstimate {
  step = $state<StepTime | null>(null);
  measuring = $state(false);
  error = $state<string | null>(null);
  #key = '';

  /** Times the step for these settings unless the last answer is for the same ones. */
  update(form: TrainForm, dataset: DatasetSummary | undefined): void {
    if (!dataset || dataset.classes < 2 || !(form.batchSize >= 1)) {
      this.#key = '';
      this.step = null;
      return;
    }
    const request = { arch: form.arch, imageSize: form.imageSize, batchSize: form.batchSize, numClasses: dataset.classes, backend: form.backend };
    const key = JSON.stringify(request);
    if (key === this.#key) {
      return;
    }
    this.#key = key;
    this.step = null;
    this.error = null;
    this.measuring = true;
    call('runs.stepTime', request).then(
      (step) => {
        if (this.#key === key) {
          this.step = step;
          this.measuring = false;
        }
      },
      (err: unknown) => {
        if (this.#key === key) {
          this.error = errorMessage(err);
          this.measuring = false;
        }
      },
    );
  }
}
