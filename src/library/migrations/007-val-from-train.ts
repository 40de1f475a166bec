import type { Migration } from './index.js';

/**
 * Validation carved from a given training split: a source with train/ and test/ folders (CIFAR, Fashion-MNIST,
 * most Kaggle sets) gives no validation images, so a stratified share of its training images becomes the
 * validation split. `val_from_train` is that share (used at every import of the dataset; 0 turns it off) and
 * `val_carved` says whether the dataset's validation split was carved that way (the given test split is untouched).
 */
export const m007ValFromTrain: Migration = {
  version: 7,
  name: 'val-from-train',
  up(db) {
    db.exec(`
      ALTER TABLE datasets ADD COLUMN val_from_train REAL NOT NULL DEFAULT 0.1;
      ALTER TABLE datasets ADD COLUMN val_carved INTEGER NOT NULL DEFAULT 0;
    `);
  },
};
