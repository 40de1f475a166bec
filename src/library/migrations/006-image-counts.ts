import type { Migration } from './index.js';

/**
 * Image counts per (dataset, class, split, status, excluded), kept exact by triggers on `images`, so a
 * gallery total or a dataset summary is a sum over a few thousand rows instead of a scan of every image.
 *
 * `edits` only ever grows: every insert, delete or change of a row's key, size or file name adds to the
 * rows it touches. The sum of `edits` over the rows a filter covers is therefore a version of that
 * filtered list: when it is unchanged, so are its members and their order (name, class, id and size
 * orders; a class rename bumps its rows too). Page anchors and cursors are checked against it.
 * Rows are never deleted while their dataset exists (a decreasing sum could repeat an old version).
 */
export const m006ImageCounts: Migration = {
  version: 6,
  name: 'image counts',
  up(db) {
    db.exec(`
      CREATE TABLE image_counts (
        dataset_id INTEGER NOT NULL,
        class_id   INTEGER NOT NULL,
        split      TEXT NOT NULL,
        status     TEXT NOT NULL,
        excluded   INTEGER NOT NULL,
        n          INTEGER NOT NULL,           -- images with this key
        bytes      INTEGER NOT NULL,           -- their total file size
        edits      INTEGER NOT NULL,           -- changes ever made to this key's images (a version, see above)
        PRIMARY KEY (dataset_id, class_id, split, status, excluded)
      ) WITHOUT ROWID;

      INSERT INTO image_counts (dataset_id, class_id, split, status, excluded, n, bytes, edits)
        SELECT dataset_id, class_id, split, status, excluded, COUNT(*), SUM(size), 0
        FROM images GROUP BY dataset_id, class_id, split, status, excluded;

      CREATE TRIGGER image_counts_insert AFTER INSERT ON images BEGIN
        INSERT INTO image_counts (dataset_id, class_id, split, status, excluded, n, bytes, edits)
          VALUES (NEW.dataset_id, NEW.class_id, NEW.split, NEW.status, NEW.excluded, 1, NEW.size, 1)
          ON CONFLICT DO UPDATE SET n = n + 1, bytes = bytes + NEW.size, edits = edits + 1;
      END;

      CREATE TRIGGER image_counts_delete AFTER DELETE ON images BEGIN
        UPDATE image_counts SET n = n - 1, bytes = bytes - OLD.size, edits = edits + 1
          WHERE dataset_id = OLD.dataset_id AND class_id = OLD.class_id AND split = OLD.split AND status = OLD.status AND excluded = OLD.excluded;
      END;

      CREATE TRIGGER image_counts_update AFTER UPDATE OF dataset_id, class_id, split, status, excluded, size, file_name ON images
      WHEN OLD.dataset_id IS NOT NEW.dataset_id OR OLD.class_id IS NOT NEW.class_id OR OLD.split IS NOT NEW.split
        OR OLD.status IS NOT NEW.status OR OLD.excluded IS NOT NEW.excluded OR OLD.size IS NOT NEW.size OR OLD.file_name IS NOT NEW.file_name
      BEGIN
        UPDATE image_counts SET n = n - 1, bytes = bytes - OLD.size, edits = edits + 1
          WHERE dataset_id = OLD.dataset_id AND class_id = OLD.class_id AND split = OLD.split AND status = OLD.status AND excluded = OLD.excluded;
        INSERT INTO image_counts (dataset_id, class_id, split, status, excluded, n, bytes, edits)
          VALUES (NEW.dataset_id, NEW.class_id, NEW.split, NEW.status, NEW.excluded, 1, NEW.size, 1)
          ON CONFLICT DO UPDATE SET n = n + 1, bytes = bytes + NEW.size, edits = edits + 1;
      END;

      -- The class order of a gallery sorted by class changes with a rename.
      CREATE TRIGGER image_counts_class_rename AFTER UPDATE OF name ON classes WHEN OLD.name IS NOT NEW.name BEGIN
        UPDATE image_counts SET edits = edits + 1 WHERE dataset_id = OLD.dataset_id AND class_id = OLD.id;
      END;

      CREATE TRIGGER image_counts_dataset_delete AFTER DELETE ON datasets BEGIN
        DELETE FROM image_counts WHERE dataset_id = OLD.id;
      END;
    `);
  },
};
