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
