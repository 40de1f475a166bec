// A run's stored config, read one way everywhere: parsed by the contract's schema (the one runs.start
// validates with), so an old run's config gains the defaults of settings added since, and a broken one
// fails with the run's name instead of as undefined values deep in training or evaluation.
import { ApiError } from '../api/errors.js';
import { TrainConfig } from '../api/runs.js';

/** Parses the config stored with run `runId` (the `runs.config` column); throws naming the run if it is not a valid config. */
export function parseRunConfig(runId: number, stored: string): TrainConfig {
  let json: unknown;
  try {
    json = JSON.parse(stored);
  } catch (err) {
    throw new ApiError('internal', `Run ${runId}'s stored config is not JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
  return validRunConfig(json, `Run ${runId}'s stored config`);
}

/** Validates an already parsed config (a checkpoint's copy); `whose` names it in the error ("Run 3's checkpoint config"). */
export function validRunConfig(json: unknown, whose: string): TrainConfig {
  const parsed = TrainConfig.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new ApiError('internal', `${whose} is broken (${issues}).`);
  }
  return parsed.data;
}

/** The config of a run row as read by run-store's runRow. */
export function configOfRun(row: { id: number; config: string }): TrainConfig {
  return parseRunConfig(row.id, row.config);
}
