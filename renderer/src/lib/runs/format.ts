// Pure formatting for runs: error rates, learning rates, statuses, config values, dates.
import { formatDuration } from '../library/format';

/** An error rate (0–1) as a percentage with one decimal: "12.5%"; "—" when unknown. */
export function formatError(e: number | null | undefined): string {
  return e == null || !Number.isFinite(e) ? '—' : `${(e * 100).toFixed(1)}%`;
}

/** A loss with three or four significant digits; "—" when unknown. */
export function formatLoss(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? '—' : v >= 10 ? v.toFixed(2) : v.toFixed(3);
}

/** A learning rate the way people write them: 0.01, 1e-4. */
export function formatLr(lr: number | null | undefined): string {
  if (lr == null || !Number.isFinite(lr)) {
    return '—';
  }
  const rounded = Number(lr.toPrecision(3));
  return rounded !== 0 && (Math.abs(rounded) < 1e-3 || Math.abs(rounded) >= 1e4) ? rounded.toExponential() : String(rounded);
}

/** Status words a person reads. */
export const STATUS_LABEL: Record<string, string> = {
  queued: 'Queued',
  running: 'Training',
  paused: 'Paused',
  completed: 'Completed',
  stopped: 'Stopped',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/** The label of a status. */
export function statusLabel(status: string): string {
  return STATUS_LABEL[status] ?? status;
}

/** How long a run has taken: finished − started, or now − started while it is live. */
export function runDuration(run: { startedAt: number | null; finishedAt: number | null }, now = Date.now()): string {
  if (run.startedAt === null) {
    return '—';
  }
  return formatDuration(((run.finishedAt ?? now) - run.startedAt) / 1000);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** A timestamp as a short local date and time: "Mar 3, 14:05". */
export function formatDate(ms: number): string {
  return dateFormat.format(new Date(ms));
}

/** A config value for display: booleans as on/off, null as the network's default (or "none" for a limit), the limit in minutes. */
export function formatConfigValue(v: unknown, key = ''): string {
  if (v === null) {
    return key === 'timeLimitMinutes' ? 'none' : key === 'threads' ? 'all cores' : "network's default";
  }
  if (key === 'timeLimitMinutes' && typeof v === 'number') {
    return `${Number(v.toFixed(2))} min`;
  }
  if (v === undefined) {
    return '—';
  }
  if (typeof v === 'boolean') {
    return v ? 'on' : 'off';
  }
  if (typeof v === 'number') {
    return Math.abs(v) > 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Flattens a config into dotted keys (augment.flip, schedule.kind) in their declared order. */
export function flattenConfig(config: Record<string, unknown>, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(config)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      out.push(...flattenConfig(v as Record<string, unknown>, key));
    } else {
      out.push([key, v]);
    }
  }
  return out;
}

/** Human names of config keys. */
export const CONFIG_LABEL: Record<string, string> = {
  arch: 'Architecture',
  imageSize: 'Image size',
  epochs: 'Epochs',
  batchSize: 'Batch size',
  lr: 'Learning rate',
  momentum: 'Momentum',
  weightDecay: 'Weight decay',
  'schedule.kind': 'LR schedule',
  'schedule.patience': 'Plateau patience',
  'schedule.factor': 'LR factor',
  'schedule.minLr': 'Minimum LR',
  'schedule.every': 'Step every (epochs)',
  lrn: 'Local response norm.',
  dropout: 'Dropout',
  init: 'Initialisation',
  'augment.crop': 'Random crops',
  'augment.flip': 'Horizontal flips',
  'augment.pca': 'PCA colour noise',
  'augment.pcaSigma': 'PCA noise σ',
  backend: 'Backend',
  timeLimitMinutes: 'Time limit',
  tenCropEval: 'Ten-crop evaluation',
  seed: 'Seed',
  'initFrom.kind': 'Start from',
  'initFrom.id': 'Parent',
  freeze: 'Frozen layers',
  pretrainedLrMult: 'Pretrained LR ×',
  threads: 'Threads',
};

/** The label of a config key. */
export function configLabel(key: string): string {
  return CONFIG_LABEL[key] ?? key;
}
