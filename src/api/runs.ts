import { z } from 'zod';
import { PredictionSet } from './results.js';
import { method, NoInput } from './schema.js';

/** Architectures a run can train. */
export const ArchName = z.enum(['alexnet-2012', 'alexnet', 'alexnet-small']);
export type ArchName = z.infer<typeof ArchName>;

/** A learning-rate schedule: the paper's plateau rule, fixed steps, or cosine decay. */
export const Schedule = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('plateau'),
    /** Epochs without a better validation error before the LR is divided. */
    patience: z.number().int().min(0).max(100).default(2),
    /** Multiplier applied on a plateau (the paper divides by 10). */
    factor: z.number().gt(0).lt(1).default(0.1),
    /** Smallest LR the schedule goes down to. */
    minLr: z.number().min(0).default(1e-6),
  }),
  z.object({ kind: z.literal('step'), every: z.number().int().min(1).default(30), factor: z.number().gt(0).lt(1).default(0.1) }),
  z.object({ kind: z.literal('cosine'), minLr: z.number().min(0).default(0) }),
]);

/** Where a fine-tuned run's starting weights come from: a run's latest checkpoint or an imported model. */
export const InitFrom = z.object({ kind: z.enum(['run', 'model']), id: z.number().int().positive() });
export type InitFrom = z.infer<typeof InitFrom>;

/** A run's parent, for the lineage shown beside it ("Fine-tuned from run 3 (alexnet-small on shapes)"); name null once the parent is deleted. */
export const RunParent = InitFrom.extend({ name: z.string().nullable() });
export type RunParent = z.infer<typeof RunParent>;

/**
 * Everything that defines a run. Defaults are the paper's recipe (Krizhevsky et al. 2012, §3–§5);
 * a run stores only what differs from them, plus this resolved whole.
 */
export const TrainConfig = z.object({
  datasetId: z.number().int().positive(),
  arch: ArchName.default('alexnet-small'),
  /** Network input side in pixels; null takes the architecture's (224 for AlexNet, 32 for small). */
  imageSize: z.number().int().min(16).max(512).nullable().default(null),
  epochs: z.number().int().min(1).max(1000).default(90),
  /** Images per SGD step (the paper: 128). */
  batchSize: z.number().int().min(1).max(1024).default(128),
  /** Initial learning rate ε (the paper: 0.01). */
  lr: z.number().gt(0).max(10).default(0.01),
  /** Momentum (the paper: 0.9). */
  momentum: z.number().min(0).lt(1).default(0.9),
  /** Weight decay (the paper: 0.0005), applied as in the paper's update rule. */
  weightDecay: z.number().min(0).max(0.1).default(0.0005),
  schedule: Schedule.default({ kind: 'plateau', patience: 2, factor: 0.1, minLr: 1e-6 }),
  /** Local response normalisation after conv1 and conv2; null takes the architecture's default. */
  lrn: z.boolean().nullable().default(null),
  /** Dropout in the first two fully connected layers (the paper: 0.5). */
  dropout: z.number().min(0).lt(1).default(0.5),
  /** 'paper' = N(0, 0.01) weights and the paper's biases; null takes the architecture's default. */
  init: z.enum(['paper', 'he']).nullable().default(null),
  augment: z
    .object({
      /** Random crops of the packed image (256 → 224 in the paper). */
      crop: z.boolean().default(true),
      /** Random horizontal reflections. */
      flip: z.boolean().default(true),
      /** PCA colour (lighting) noise with α ~ N(0, pcaSigma). */
      pca: z.boolean().default(true),
      pcaSigma: z.number().min(0).max(1).default(0.1),
    })
    .default({ crop: true, flip: true, pca: true, pcaSigma: 0.1 }),
  /** webgpu/webgl train in the desktop app's compute window only; browser mode and the CLI train in Node. */
  backend: z.enum(['auto', 'tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu']).default('auto'),
  /** Compute threads of the wasm backend; null = $CONVNET_THREADS, else every core of the machine. */
  threads: z.number().int().min(1).max(256).nullable().default(null),
  /** Stop cleanly after this many minutes of training (then evaluate); null = no limit. */
  timeLimitMinutes: z.number().positive().nullable().default(null),
  /** Evaluate with the paper's ten-crop averaging (slower) instead of the centre crop. */
  tenCropEval: z.boolean().default(false),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  /** Start from another run's checkpoint or an imported model (fine-tuning); null trains from scratch. */
  initFrom: InitFrom.nullable().default(null),
  /** Layers that do not train: none, the convolutional features, or all but the last layer (the fast head on cached fc7 features). */
  freeze: z.enum(['none', 'features', 'all-but-last']).default('none'),
  /** Learning-rate multiplier of the layers copied from the parent (the re-initialised last layer keeps 1). */
  pretrainedLrMult: z.number().min(0).max(10).default(0.1),
});
export type TrainConfig = z.output<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;

/** Input of `runs.stepTime`: the settings that decide how long a training step takes. */
export const StepTimeRequest = z.object({
  arch: ArchName,
  imageSize: z.number().int().min(16).max(512).nullable(),
  batchSize: z.number().int().min(1).max(1024),
  numClasses: z.number().int().min(2).max(100_000),
  backend: TrainConfig.shape.backend,
});
export type StepTimeRequest = z.infer<typeof StepTimeRequest>;

/** A measured training step of a run's network: the backend it ran on and its time, per image and per batch. */
export const StepTime = z.object({
  backend: z.string(),
  device: z.string().nullable(),
  secondsPerImage: z.number(),
  secondsPerStep: z.number(),
  /** Images in the timed steps (the per-step figure is scaled from them to the batch). */
  measuredImages: z.number().int(),
});
export type StepTime = z.infer<typeof StepTime>;

export const RunStatus = z.enum(['queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

/** One epoch's metrics, as `convnet train --json` prints them. */
export const EpochMetrics = z.object({
  epoch: z.number().int(),
  trainLoss: z.number(),
  valLoss: z.number().nullable(),
  valTop1Error: z.number().nullable(),
  valTop5Error: z.number().nullable(),
  lr: z.number(),
  imagesPerSecond: z.number(),
  seconds: z.number(),
});
export type EpochMetrics = z.infer<typeof EpochMetrics>;

export const RunSummary = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  datasetName: z.string().nullable(),
  arch: ArchName,
  status: RunStatus,
  backend: z.string().nullable(),
  device: z.string().nullable(),
  epochsDone: z.number().int(),
  epochs: z.number().int(),
  bestValTop1Error: z.number().nullable(),
  bestValTop5Error: z.number().nullable(),
  /** Top-1/top-5 error on the held-out test split, from the predictions stored after training; null until then or without test images. */
  testTop1Error: z.number().nullable(),
  testTop5Error: z.number().nullable(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  error: z.string().nullable(),
  /** Free labels for sorting and filtering the runs table. */
  tags: z.array(z.string()),
  note: z.string(),
  /** Where a live run trains when that is not the process answering ("process 1234 on gpu-box"); null otherwise. */
  trainingElsewhere: z.string().nullable(),
  /** Where it was trained: here ('local'), or in an exported PyTorch bundle whose result was imported ('torch-bundle'). */
  origin: z.enum(['local', 'torch-bundle']),
  /** The run it came from (the exported run of a bundle), or null. */
  parentRunId: z.number().int().nullable(),
  /** The run or model whose weights this run started from (fine-tuned, or the exported run of a bundle); null for a run trained from scratch. */
  parent: RunParent.nullable().default(null),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunDetail = RunSummary.extend({
  config: TrainConfig,
  /** Only the settings that differ from the defaults. */
  configDiff: z.record(z.string(), z.unknown()),
  threads: z.number().int().nullable(),
  /** The network input side the run uses (its imageSize or the architecture's default). */
  inputSize: z.number().int(),
  snapshotHash: z.string().nullable(),
  classes: z.array(z.string()),
  epochsData: z.array(EpochMetrics),
  log: z.array(z.object({ time: z.number(), level: z.string(), message: z.string() })),
});
export type RunDetail = z.infer<typeof RunDetail>;

const RunId = z.object({ id: z.number().int().positive() });

/** Live progress of a training run, several times a second at most. */
export const TrainProgress = z.object({
  runId: z.number().int(),
  /** evaluating: the validation pass after an epoch; predicting: the pass over every split after training that stores predictions (and the test error). */
  phase: z.enum(['preparing', 'training', 'evaluating', 'predicting']),
  epoch: z.number().int(),
  epochs: z.number().int(),
  batch: z.number().int(),
  batches: z.number().int(),
  loss: z.number().nullable(),
  imagesPerSecond: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  lr: z.number(),
  message: z.string().nullable(),
});
export type TrainProgress = z.infer<typeof TrainProgress>;

/** Loss, top-1/top-5 error, per-class metrics and the confusion matrix of a run on one split. */
export const RunEvaluation = z.object({
  runId: z.number().int(),
  split: z.enum(['train', 'val', 'test']),
  tenCrop: z.boolean(),
  images: z.number().int(),
  loss: z.number(),
  top1Error: z.number(),
  top5Error: z.number(),
  classes: z.array(z.string()),
  perClass: z.array(z.object({ class: z.string(), precision: z.number(), recall: z.number(), f1: z.number(), support: z.number().int() })),
  confusion: z.array(z.array(z.number().int())),
  backend: z.string(),
});
export type RunEvaluation = z.infer<typeof RunEvaluation>;

export const runMethods = {
  'runs.evaluate': method(
    "Evaluate a run's latest checkpoint on a split (optionally with the paper's ten-crop averaging).",
    z.object({ id: z.number().int().positive(), split: z.enum(['train', 'val', 'test']).default('val'), tenCrop: z.boolean().default(false) }),
    RunEvaluation,
  ),

  'runs.predict': method(
    "Compute and store a run's predictions and fc7 features on a split (replacing earlier ones); the results.* views read them.",
    z.object({ id: z.number().int().positive(), split: z.enum(['train', 'val', 'test']).default('val'), tenCrop: z.boolean().default(false) }),
    PredictionSet,
  ),
  'runs.update': method(
    'Set the tags and/or note of a run.',
    z.object({
      id: z.number().int().positive(),
      tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
      note: z.string().max(10_000).optional(),
    }),
    RunSummary,
  ),
  'runs.delete': method(
    'Delete a run with its checkpoint, predictions and features (refused while it trains).',
    RunId,
    z.object({ deleted: z.boolean() }),
  ),

  'runs.start': method('Start training a run on a dataset.', TrainConfig, z.object({ id: z.number().int() })),
  'runs.list': method('All runs, newest first.', NoInput, z.array(RunSummary)),
  'runs.stepTime': method("Times a few training steps of a run's network on the backend it would use (for an estimate of its duration).", StepTimeRequest, StepTime),
  'runs.get': method('One run: config, metrics per epoch, log.', RunId, RunDetail),
  'runs.pause': method('Pause a running run after the current batch.', RunId, RunSummary),
  'runs.resume': method('Resume a paused, stopped or interrupted run from its last checkpoint.', RunId, RunSummary),
  'runs.stop': method('Stop a run after the current batch; its last checkpoint stays.', RunId, RunSummary),
  'runs.defaults': method('The default training config and the architectures offered.', NoInput, z.object({
    config: TrainConfig.omit({ datasetId: true }),
    archs: z.array(
      z.object({
        name: ArchName,
        title: z.string(),
        description: z.string(),
        defaultInputSize: z.number().int(),
        defaultLrn: z.boolean(),
        defaultInit: z.enum(['paper', 'he']),
      }),
    ),
    /** Parameter defaults of each schedule kind, for forms that switch between them. */
    schedules: z.object({ plateau: Schedule.options[0], step: Schedule.options[1], cosine: Schedule.options[2] }),
  })),
};

export const runEvents = {
  'run.status': z.object({ runId: z.number().int(), status: RunStatus }),
  'train.progress': TrainProgress,
  'train.epoch': EpochMetrics.extend({ runId: z.number().int() }),
  'run.finished': z.object({ runId: z.number().int(), status: RunStatus, error: z.string().nullable(), bestValTop1Error: z.number().nullable(), bestValTop5Error: z.number().nullable() }),
};
