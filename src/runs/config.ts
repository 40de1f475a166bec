import { TrainConfig, type TrainConfigInput } from '../api/runs.js';
import { ARCHS, type ArchName } from '../model/index.js';

/** The defaults, resolved (datasetId is a placeholder). */
export const DEFAULT_CONFIG: TrainConfig = TrainConfig.parse({ datasetId: 1 });

/** Validates and fills a config with defaults. */
export function resolveConfig(input: TrainConfigInput): TrainConfig {
  return TrainConfig.parse(input);
}

/** Network input size of a run: its own setting or the architecture's. */
export function inputSizeOf(config: TrainConfig): number {
  return config.imageSize ?? ARCHS[config.arch as ArchName].defaultInputSize;
}

/** Only the settings that differ from the defaults (what a run "is", like nanoGPT's config overrides). */
export function configDiff(config: TrainConfig): Record<string, unknown> {
  const diff: Record<string, unknown> = {};
  const walk = (a: unknown, b: unknown, prefix: string): void => {
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of keys) {
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k);
      }
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      diff[prefix] = a;
    }
  };
  const { datasetId: _d, ...rest } = config;
  const { datasetId: _x, ...defaults } = DEFAULT_CONFIG;
  walk(rest, defaults, '');
  return diff;
}

/** Mean subtraction (and scaling) applied to every input, from the training pixels' statistics. */
export interface InputNormalization {
  mean: [number, number, number];
  std?: [number, number, number];
}

/**
 * How a run normalises its inputs, in training, evaluation, classification and export alike.
 * The paper subtracts the mean only (with its N(0, 0.01) init); He-initialised nets also divide by the std.
 */
export function normalizationFor(config: TrainConfig, stats: { mean: number[]; std: number[] }): InputNormalization {
  const init = config.init ?? ARCHS[config.arch as ArchName].defaultInit;
  const mean = [stats.mean[0]!, stats.mean[1]!, stats.mean[2]!] as [number, number, number];
  return init === 'paper' ? { mean } : { mean, std: [stats.std[0]!, stats.std[1]!, stats.std[2]!] };
}
