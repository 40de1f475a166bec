// A run's stored config is read through the contract's schema: an old run's config (written before
// settings were added or renamed, then migrated) still reads, with the new settings' defaults; a broken
// one fails naming the run.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openLibrary } from '../../../src/library/open.js';
import { migrations } from '../../../src/library/migrations/index.js';
import { getRunDetail, getRunSummary, listRuns } from '../../../src/runs/run-store.js';
import { parseRunConfig } from '../../../src/runs/run-config.js';
import { tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A resolved config as runs stored it at schema version 8: seconds for the time limit, no fine-tuning settings. */
const V8_CONFIG = {
  datasetId: 1,
  arch: 'alexnet-small',
  imageSize: null,
  epochs: 3,
  batchSize: 16,
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0.0005,
  schedule: { kind: 'plateau', patience: 2, factor: 0.1, minLr: 1e-6 },
  lrn: null,
  dropout: 0.5,
  init: null,
  augment: { crop: true, flip: true, pca: true, pcaSigma: 0.1 },
  backend: 'wasm',
  threads: null,
  timeLimitSeconds: 120,
  tenCropEval: false,
  seed: 4,
};

function libraryWithRuns(configs: string[]): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db = new Database(path.join(t.dir, 'library.sqlite'));
  migrate(db, migrations.filter((m) => m.version < 9));
  const now = Date.now();
  db.prepare(
    `INSERT INTO datasets (id, name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed)
     VALUES (1, 'd', ?, ?, '[]', 'k', 'ready', 0.8, 0.1, 0.1, 0)`,
  ).run(now, now);
  const insert = db.prepare(`INSERT INTO runs (dataset_id, dataset_name, arch, status, config, config_diff, created_at) VALUES (1, 'd', 'alexnet-small', 'completed', ?, '{}', ?)`);
  configs.forEach((c) => insert.run(c, now));
  db.close();
  return t.dir;
}

describe('a run\'s stored config', () => {
  it('of a run stored at schema version 8 reads after the migrations, with the settings added since at their defaults', () => {
    const lib = openLibrary(libraryWithRuns([JSON.stringify(V8_CONFIG)]));
    try {
      const detail = getRunDetail(lib.db, 1);
      const { timeLimitSeconds: _s, ...rest } = V8_CONFIG;
      expect(detail.config).toEqual({ ...rest, timeLimitMinutes: 2, initFrom: null, freeze: 'none', pretrainedLrMult: 0.1 });
      expect(detail.epochs).toBe(3);
      expect(detail.inputSize).toBe(32);
      expect(listRuns(lib.db).map((r) => r.epochs)).toEqual([3]);
    } finally {
      lib.close();
    }
  });

  it('that is broken fails naming the run and what is wrong, not as undefined values later; the list still shows every run', () => {
    const lib = openLibrary(libraryWithRuns([JSON.stringify({ ...V8_CONFIG, epochs: -1 }), JSON.stringify(V8_CONFIG), JSON.stringify(V8_CONFIG)]));
    try {
      lib.db.prepare(`UPDATE runs SET config = '{"datasetId": 1,' WHERE id = 2`).run();
      expect(() => getRunDetail(lib.db, 1)).toThrow(/^Run 1's stored config is broken \(epochs: /);
      expect(() => getRunDetail(lib.db, 2)).toThrow(/^Run 2's stored config is not JSON/);
      // One broken row never hides the others: it is listed with the reason as its error.
      expect(getRunSummary(lib.db, 2).error).toMatch(/^Run 2's stored config is not JSON/);
      const listed = listRuns(lib.db).map((r) => ({ id: r.id, epochs: r.epochs, error: r.error }));
      expect(listed).toEqual(
        expect.arrayContaining([
          { id: 1, epochs: 0, error: expect.stringMatching(/^Run 1's stored config is broken/) },
          { id: 2, epochs: 0, error: expect.stringMatching(/^Run 2's stored config is not JSON/) },
          { id: 3, epochs: 3, error: null },
        ]),
      );
      expect(listed).toHaveLength(3);
    } finally {
      lib.close();
    }
  });

  it('is parsed by the schema runs.start validates with: defaults filled, unknown keys dropped', () => {
    const config = parseRunConfig(7, JSON.stringify({ datasetId: 2, epochs: 5, retired: true }));
    expect(config).toMatchObject({ datasetId: 2, epochs: 5, arch: 'alexnet-small', batchSize: 128, freeze: 'none' });
    expect(config).not.toHaveProperty('retired');
  });
});
