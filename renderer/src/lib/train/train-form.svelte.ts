// The Train form's state: every TrainConfig setting, seeded from the paper's defaults (`runs.defaults`),
// what differs from them, and the config `runs.start` receives.
import { configLabel, flattenConfig, formatConfigValue } from '../runs/format';
import type { ArchInfo, RunDefaults, TrainConfig, TrainConfigInput } from '../runs/types';

type Defaults = RunDefaults['config'];
type ScheduleKind = TrainConfig['schedule']['kind'];

/** The fields a saved form keeps (the dataset too: it is checked against the library when restored). */
const SAVED_FIELDS = [
  'datasetId', 'arch', 'imageSize', 'epochs', 'batchSize', 'lr', 'momentum', 'weightDecay', 'scheduleKind', 'patience', 'plateauFactor',
  'plateauMinLr', 'stepEvery', 'stepFactor', 'cosineMinLr', 'lrn', 'dropout', 'init', 'crop', 'flip', 'pca', 'pcaSigma', 'backend',
  'timeLimitMinutes', 'tenCropEval', 'seed', 'threads',
] as const satisfies ReadonlyArray<keyof TrainForm>;

/** Fields whose "no value" (null) is a real setting. */
const NULLABLE_FIELDS = new Set<string>(['datasetId', 'imageSize', 'lrn', 'init', 'timeLimitMinutes', 'threads']);

/** One setting whose value differs from the paper's default. */
export interface ConfigChange {
  key: string;
  label: string;
  value: string;
  paper: string;
}

/**
 * The form: plain fields bound to inputs; `config()` turns them into a `runs.start` request.
 * Every value comes from `runs.defaults` (the constructor calls `reset()`): the engine's defaults are the only copy.
 */
export class TrainForm {
  readonly defaults: Defaults;
  readonly archs: ArchInfo[];
  /** Parameters of each schedule kind, for the kinds the default config does not use. */
  readonly schedules: RunDefaults['schedules'];
  datasetId = $state<number | null>(null);
  arch = $state<TrainConfig['arch']>('alexnet-small');
  /** null follows the architecture's input size. */
  imageSize = $state<number | null>(null);
  epochs = $state(0);
  batchSize = $state(0);
  lr = $state(0);
  momentum = $state(0);
  weightDecay = $state(0);
  scheduleKind = $state<ScheduleKind>('plateau');
  patience = $state(0);
  plateauFactor = $state(0);
  plateauMinLr = $state(0);
  stepEvery = $state(0);
  stepFactor = $state(0);
  cosineMinLr = $state(0);
  lrn = $state<boolean | null>(null);
  dropout = $state(0);
  init = $state<TrainConfig['init']>(null);
  crop = $state(false);
  flip = $state(false);
  pca = $state(false);
  pcaSigma = $state(0);
  backend = $state<TrainConfig['backend']>('auto');
  /** Minutes, or null for no limit. */
  timeLimitMinutes = $state<number | null>(null);
  tenCropEval = $state(false);
  /** Compute threads (wasm); null = every core. */
  threads = $state<number | null>(null);
  seed = $state(0);
  /** Fine-tuning (not kept between sessions: a parent may be gone): 'run:3', 'model:2', or '' for scratch. */
  initFrom = $state('');
  freeze = $state<TrainConfig['freeze']>('none');
  pretrainedLrMult = $state(0);

  constructor(defaults: RunDefaults) {
    this.defaults = defaults.config;
    this.archs = defaults.archs;
    this.schedules = defaults.schedules;
    this.reset();
  }

  /** Puts every setting back to the paper's default (the dataset stays). */
  reset(): void {
    const d = this.defaults;
    this.arch = d.arch;
    this.imageSize = d.imageSize;
    this.epochs = d.epochs;
    this.batchSize = d.batchSize;
    this.lr = d.lr;
    this.momentum = d.momentum;
    this.weightDecay = d.weightDecay;
    this.scheduleKind = d.schedule.kind;
    const plateau = d.schedule.kind === 'plateau' ? d.schedule : this.schedules.plateau;
    const step = d.schedule.kind === 'step' ? d.schedule : this.schedules.step;
    const cosine = d.schedule.kind === 'cosine' ? d.schedule : this.schedules.cosine;
    this.patience = plateau.patience;
    this.plateauFactor = plateau.factor;
    this.plateauMinLr = plateau.minLr;
    this.stepEvery = step.every;
    this.stepFactor = step.factor;
    this.cosineMinLr = cosine.minLr;
    this.lrn = d.lrn;
    this.dropout = d.dropout;
    this.init = d.init;
    this.crop = d.augment.crop;
    this.flip = d.augment.flip;
    this.pca = d.augment.pca;
    this.pcaSigma = d.augment.pcaSigma;
    this.backend = d.backend;
    this.timeLimitMinutes = d.timeLimitMinutes;
    this.tenCropEval = d.tenCropEval;
    this.threads = d.threads;
    this.seed = d.seed;
    this.initFrom = '';
    this.freeze = d.freeze;
    this.pretrainedLrMult = d.pretrainedLrMult;
  }

  /** The parent as the contract wants it, or null for a run from scratch. */
  get parent(): TrainConfig['initFrom'] {
    const m = /^(run|model):(\d+)$/.exec(this.initFrom);
    return m ? { kind: m[1] as 'run' | 'model', id: Number(m[2]) } : null;
  }

  /** Every field as plain data, for saving the form between sessions. */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of SAVED_FIELDS) {
      out[key] = this[key];
    }
    return out;
  }

  /** Takes back the fields of a `snapshot()` whose type still fits (a saved form from an older version loses nothing else). */
  restore(saved: Record<string, unknown>): void {
    for (const key of SAVED_FIELDS) {
      const value = saved[key];
      const current: unknown = this[key];
      const fits = value === null ? NULLABLE_FIELDS.has(key) : typeof value === typeof current || (current === null && ['number', 'boolean', 'string'].includes(typeof value));
      if (key in saved && fits) {
        (this as unknown as Record<string, unknown>)[key] = value;
      }
    }
    if (!this.archs.some((a) => a.name === this.arch)) {
      this.arch = this.defaults.arch;
    }
  }

  /** The chosen architecture's description and input size. */
  get archInfo(): ArchInfo | undefined {
    return this.archs.find((a) => a.name === this.arch);
  }

  /** The input side the run will use (its own or the architecture's). */
  get effectiveImageSize(): number {
    return this.imageSize ?? this.archInfo?.defaultInputSize ?? 224;
  }

  /** Sets the image size; the architecture's own size is stored as null so it follows the architecture. */
  setImageSize(v: number | null): void {
    this.imageSize = v === null || v === this.archInfo?.defaultInputSize ? null : v;
  }

  /** The schedule as the contract wants it. */
  get schedule(): TrainConfig['schedule'] {
    switch (this.scheduleKind) {
      case 'step':
        return { kind: 'step', every: this.stepEvery, factor: this.stepFactor };
      case 'cosine':
        return { kind: 'cosine', minLr: this.cosineMinLr };
      default:
        return { kind: 'plateau', patience: this.patience, factor: this.plateauFactor, minLr: this.plateauMinLr };
    }
  }

  /** Everything but the dataset, as `runs.start` will resolve it. */
  get settings(): Defaults {
    return {
      arch: this.arch,
      imageSize: this.imageSize,
      epochs: this.epochs,
      batchSize: this.batchSize,
      lr: this.lr,
      momentum: this.momentum,
      weightDecay: this.weightDecay,
      schedule: this.schedule,
      lrn: this.lrn,
      dropout: this.dropout,
      init: this.init,
      augment: { crop: this.crop, flip: this.flip, pca: this.pca, pcaSigma: this.pcaSigma },
      backend: this.backend,
      timeLimitMinutes: this.timeLimitMinutes,
      tenCropEval: this.tenCropEval,
      threads: this.threads,
      seed: this.seed,
      initFrom: this.parent,
      freeze: this.parent ? this.freeze : 'none',
      pretrainedLrMult: this.pretrainedLrMult,
    };
  }

  /** The settings that differ from the paper's defaults, with both values in words. */
  get changes(): ConfigChange[] {
    const paper = new Map(flattenConfig(this.defaults as Record<string, unknown>));
    // Another schedule's parameters have no paper value to compare with.
    const otherSchedule = this.scheduleKind !== this.defaults.schedule.kind;
    return flattenConfig(this.settings as Record<string, unknown>)
      .filter(([key, value]) => (otherSchedule && key.startsWith('schedule.')) || JSON.stringify(value) !== JSON.stringify(paper.get(key)))
      .map(([key, value]) => ({
        key,
        label: configLabel(key),
        value: formatConfigValue(value, key),
        paper: otherSchedule && key !== 'schedule.kind' && key.startsWith('schedule.') ? '—' : formatConfigValue(paper.get(key), key),
      }));
  }

  /** True when the setting (dotted key) differs from the paper's default. */
  changed(key: string): boolean {
    return this.changes.some((c) => c.key === key || c.key.startsWith(`${key}.`));
  }

  /** Problems the form can see before asking the engine (which checks ranges itself). */
  get problems(): string[] {
    const out: string[] = [];
    if (this.datasetId === null) {
      out.push('Choose a dataset.');
    }
    const numbers: [string, number | null][] = [
      ['Epochs', this.epochs],
      ['Batch size', this.batchSize],
      ['Learning rate', this.lr],
      ['Momentum', this.momentum],
      ['Weight decay', this.weightDecay],
      ['Dropout', this.dropout],
      ['PCA noise σ', this.pcaSigma],
      ['Seed', this.seed],
    ];
    for (const [label, v] of numbers) {
      if (v === null || !Number.isFinite(v)) {
        out.push(`Enter a number for ${label.toLowerCase()}.`);
      }
    }
    return out;
  }

  /** The request for `runs.start`. */
  config(): TrainConfigInput {
    return { datasetId: this.datasetId ?? 0, ...this.settings };
  }
}
