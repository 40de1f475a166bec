// The trainer of a run's Node worker: tfjs on the backend chosen here (tensorflow, wasm, cpu), the
// paper's loop or the fast head on cached features, and a fine-tuned run's parent weights.
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../api/app.js';
import type { TrainConfig } from '../api/runs.js';
import { activateBackend, chooseBackend } from '../backends/index.js';
import { ARCHS, buildModel } from '../model/index.js';
import { modelFromCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../runs/checkpoint.js';
import { FAST_HEAD_VIEWS, trainFastHead, type FastHeadTimes } from './fast-head.js';
import { setUpFineTune } from './init-from.js';
import { keyedWeights, trainLoop, type LoopPosition } from './loop.js';
import { loadParent, statsWithParentNorm } from './parent.js';
import { PaperSgd } from './sgd.js';
import type { Trainer, TrainerBackend, TrainerDataNeeds, TrainJob, TrainResult } from './trainer.js';

/** Trains in this process with tfjs; `chosen` is the backend `auto` resolved to in the main thread, if it did. */
export class TfjsTrainer implements Trainer<'float32'> {
  readonly output = 'float32';
  readonly place = null;
  private parent: Awaited<ReturnType<typeof loadParent>> | null = null;

  constructor(
    private readonly libraryDir: string,
    private readonly chosen?: BackendName,
  ) {}

  async open(config: TrainConfig): Promise<TrainerBackend> {
    const choice = await chooseBackend(this.chosen ?? config.backend, config.threads);
    const active = await activateBackend(choice.name, config.threads);
    const threads = choice.threads ? `, ${choice.threads} thread${choice.threads === 1 ? '' : 's'}` : '';
    return { name: active, device: choice.device, threads: choice.threads, description: `Backend ${active} (${choice.device ?? 'unknown device'}${threads}): ${choice.reason}` };
  }

  /** A fine-tuned run's first start: the parent's weights, and its input normalisation for this run's data. */
  async prepare(config: TrainConfig, checkpoint: LoadedCheckpoint | null): Promise<TrainerDataNeeds> {
    const parent = !checkpoint && config.initFrom ? await loadParent(this.libraryDir, config.initFrom) : null;
    this.parent = parent;
    return parent ? { adjustStats: (s) => statsWithParentNorm(s, parent.norm) } : {};
  }

  async train(job: TrainJob<'float32'>): Promise<TrainResult> {
    const { config, checkpoint, data, runDir } = job;
    // Model and optimizer, fresh or from the checkpoint (which may come from another backend).
    const arch = config.arch;
    const numClasses = data.snapshot.classes.length;
    const model = checkpoint
      ? await modelFromCheckpoint(checkpoint)
      : buildModel(arch, { numClasses, inputSize: data.inputSize, lrn: config.lrn ?? ARCHS[arch].defaultLrn, dropout: config.dropout, init: config.init ?? ARCHS[arch].defaultInit, seed: config.seed });
    const lrMult = setUpFineTune(model, config, runDir, this.parent?.model ?? null, job.log);
    const sgd = new PaperSgd(keyedWeights(model), { momentum: config.momentum, weightDecay: config.weightDecay, ...(lrMult ? { lrMult } : {}) });
    if (checkpoint) {
      sgd.setState(checkpoint.sgd);
    }
    const save = async (position: LoopPosition): Promise<void> => saveCheckpoint(runDir, model, await sgd.getState(), { ...job.meta, position });
    try {
      const fastHead = config.freeze === 'all-but-last';
      const augmented = config.augment.crop || config.augment.flip || config.augment.pca;
      const result = await (fastHead ? trainFastHead : trainLoop)({
        batchSize: config.batchSize,
        views: augmented ? FAST_HEAD_VIEWS : 1,
        onExtract: (split, done, total) =>
          job.prepare(`Computing ${split === 'train' ? `the training images' features once${augmented ? ` (${FAST_HEAD_VIEWS} augmented views each)` : ''}` : 'the validation features'}: batch ${done} / ${total}`, done, total),
        recordEpoch: (metrics, pos) => job.record(metrics, pos),
        model,
        sgd,
        config,
        numClasses,
        train: data.trainLoader,
        val: data.valLoader,
        start: job.start,
        hooks: {
          progress: (p) => job.progress(p),
          epochEnd: async (metrics, pos) => {
            await save(pos);
            job.record(metrics, pos);
          },
          control: () => job.checkControl(),
          stopped: async (pos) => {
            await save(pos);
            job.record(null, pos);
          },
        },
      });
      const times = 'times' in result ? (result.times as FastHeadTimes) : null;
      if (times) {
        job.log('info', `Fast head: features computed in ${times.extractSeconds.toFixed(1)} s, the last layer trained in ${times.trainSeconds.toFixed(1)} s.`);
      }
      return { outcome: result.outcome, position: result.position };
    } finally {
      // Before the predictions, which load the checkpoint into a model of their own.
      model.dispose();
      sgd.dispose();
    }
  }

  async close(): Promise<void> {
    this.parent = null; // setUpFineTune disposed its model
    tf.disposeVariables();
  }
}
