import type { Migration } from './index.js';

/**
 * A run's lineage: the run or imported model whose weights it started from (fine-tuning), and where the run
 * was trained — 'local' by this app, or 'torch-bundle' when its results came back from an exported PyTorch
 * bundle. Both parents stay NULL for a run trained from scratch, and become NULL if the parent is deleted.
 */
export const m010RunLineage: Migration = {
  version: 10,
  name: 'run lineage',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN parent_run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL;
      ALTER TABLE runs ADD COLUMN parent_model_id INTEGER REFERENCES models (id) ON DELETE SET NULL;
      ALTER TABLE runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'torch-bundle'));
      CREATE INDEX runs_parent_run ON runs (parent_run_id);
    `);
  },
};
