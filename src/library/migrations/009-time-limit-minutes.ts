import type { Migration } from './index.js';

/**
 * A run's time limit is stated in minutes everywhere (UI, CLI, config table): stored configs move their
 * `timeLimitSeconds` to `timeLimitMinutes` (seconds / 60), in the resolved config and in the diff alike.
 */
export const m009TimeLimitMinutes: Migration = {
  version: 9,
  name: 'time limit in minutes',
  up(db) {
    const rows = db.prepare('SELECT id, config, config_diff FROM runs').all() as Array<{ id: number; config: string; config_diff: string }>;
    const update = db.prepare('UPDATE runs SET config = ?, config_diff = ? WHERE id = ?');
    for (const row of rows) {
      update.run(JSON.stringify(inMinutes(JSON.parse(row.config))), JSON.stringify(inMinutes(JSON.parse(row.config_diff))), row.id);
    }
  },
};

function inMinutes(config: Record<string, unknown>): Record<string, unknown> {
  if (!('timeLimitSeconds' in config)) {
    return config;
  }
  const { timeLimitSeconds: seconds, ...rest } = config;
  return { ...rest, timeLimitMinutes: typeof seconds === 'number' ? seconds / 60 : null };
}
