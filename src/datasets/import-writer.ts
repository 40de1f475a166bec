import type { Database, Statement } from 'better-sqlite3';
import type { SkipKind, SplitName } from '../api/datasets.js';
import type { Candidate } from './scan.js';
import type { ProbedImage } from './image-probe.js';
import { journal } from './store.js';

/** An image row already in the dataset, as a re-import compares it. */
export interface ExistingImage {
  id: number;
  size: number;
  mtimeMs: number;
  sha256: string;
  status: 'ok' | 'missing';
  originalClassId: number;
  split: SplitName;
  splitSource: 'given' | 'auto' | 'manual';
}

/** A skip recorded by an earlier import, trusted while the file's size and mtime are unchanged. */
export interface ExistingSkip {
  kind: SkipKind;
  reason: string;
  size: number | null;
  mtimeMs: number | null;
  sha256: string | null;
}

/** One skipped file to record. */
export interface SkipRecord {
  path: string;
  kind: SkipKind;
  reason: string;
  size?: number | null;
  mtimeMs?: number | null;
  sha256?: string | null;
}

/** The import's writes into one dataset, in batched transactions (the worker's own connection). */
export class ImportWriter {
  private readonly classIds = new Map<string, number>();
  private readonly insertClass: Statement;
  private readonly selectClass: Statement;
  private readonly upsertImages: Statement;
  private readonly refreshImage: Statement;
  private readonly upsertSkip: Statement;

  constructor(
    private readonly db: Database,
    readonly datasetId: number,
  ) {
    this.insertClass = db.prepare('INSERT OR IGNORE INTO classes (dataset_id, name) VALUES (?, ?)');
    this.selectClass = db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ?');
    // One statement per batch (rows as a JSON array): binding each row from JavaScript cost twice the insert itself.
    this.upsertImages = db.prepare(`
      INSERT INTO images (dataset_id, path, relative_path, file_name, sha256, size, mtime_ms, width, height, format,
                          class_id, original_class_id, split, split_source, status, error, excluded, indexed_at)
      SELECT @datasetId, r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, r.value ->> 6,
             r.value ->> 7, r.value ->> 8, r.value ->> 9, r.value ->> 9, r.value ->> 10, r.value ->> 11, 'ok', NULL, 0, @now
      FROM json_each(@rows) AS r WHERE true
      ON CONFLICT (dataset_id, path) DO UPDATE SET
        relative_path = excluded.relative_path, file_name = excluded.file_name, sha256 = excluded.sha256,
        size = excluded.size, mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height,
        format = excluded.format,
        class_id = CASE WHEN images.class_id = images.original_class_id THEN excluded.class_id ELSE images.class_id END,
        original_class_id = excluded.original_class_id,
        split = CASE WHEN images.split_source = 'manual' THEN images.split
                     WHEN excluded.split_source = 'given' THEN excluded.split ELSE images.split END,
        split_source = CASE WHEN images.split_source = 'manual' THEN 'manual' ELSE excluded.split_source END,
        status = 'ok', error = NULL, indexed_at = excluded.indexed_at`);
    // An unchanged file keeps its hash; only its class or given split can change with the source layout.
    this.refreshImage = db.prepare(`
      UPDATE images SET
        class_id = CASE WHEN class_id = original_class_id THEN @classId ELSE class_id END,
        original_class_id = @classId,
        split = CASE WHEN split_source = 'manual' THEN split WHEN @splitSource = 'given' THEN @split ELSE split END,
        split_source = CASE WHEN split_source = 'manual' THEN 'manual' ELSE @splitSource END,
        relative_path = @relativePath, status = 'ok', error = NULL
      WHERE id = @id`);
    this.upsertSkip = db.prepare(`
      INSERT INTO import_skips (dataset_id, path, kind, reason, size, mtime_ms, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (dataset_id, path) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, size = excluded.size,
        mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256`);
  }

  /** Images of the dataset by path, for the incremental comparison. */
  loadImages(): Map<string, ExistingImage> {
    const rows = this.db
      .prepare(
        `SELECT id, path, size, mtime_ms AS mtimeMs, sha256, status, original_class_id AS originalClassId, split, split_source AS splitSource
         FROM images WHERE dataset_id = ?`,
      )
      .all(this.datasetId) as Array<ExistingImage & { path: string }>;
    return new Map(rows.map((r) => [r.path, r]));
  }

  /** Skips recorded by earlier imports, by path. */
  loadSkips(): Map<string, ExistingSkip> {
    const rows = this.db
      .prepare('SELECT path, kind, reason, size, mtime_ms AS mtimeMs, sha256 FROM import_skips WHERE dataset_id = ?')
      .all(this.datasetId) as Array<ExistingSkip & { path: string }>;
    return new Map(rows.map((r) => [r.path, r]));
  }

  /** The class id for a name, creating the class on first use (inside the caller's transaction). */
  classId(name: string): number {
    let id = this.classIds.get(name);
    if (id === undefined) {
      this.insertClass.run(this.datasetId, name);
      id = (this.selectClass.get(this.datasetId, name) as { id: number }).id;
      this.classIds.set(name, id);
    }
    return id;
  }

  /** Writes newly read images (new files, or changed content), in one statement (inside the caller's transaction). */
  writeImages(images: ReadonlyArray<{ candidate: Candidate; probe: ProbedImage }>): void {
    if (images.length === 0) {return;}
    const rows = images.map(({ candidate, probe }) => [
      candidate.path,
      candidate.relativePath,
      candidate.fileName,
      probe.sha256,
      candidate.size,
      candidate.mtimeMs,
      probe.width,
      probe.height,
      probe.format,
      this.classId(candidate.className),
      candidate.givenSplit ?? 'train',
      candidate.givenSplit ? 'given' : 'auto',
    ]);
    this.upsertImages.run({ datasetId: this.datasetId, now: Date.now(), rows: JSON.stringify(rows) });
  }

  /** Updates an unchanged file's class and given split when the source layout changed them; no-op otherwise. */
  refresh(candidate: Candidate, existing: ExistingImage, relativeChanged: boolean): void {
    const classId = this.classId(candidate.className);
    const splitSource = candidate.givenSplit ? 'given' : existing.splitSource === 'given' ? 'auto' : existing.splitSource;
    const same =
      existing.status === 'ok' &&
      !relativeChanged &&
      existing.originalClassId === classId &&
      (existing.splitSource === 'manual' || (existing.splitSource === splitSource && (!candidate.givenSplit || candidate.givenSplit === existing.split)));
    if (!same) {
      this.refreshImage.run({ id: existing.id, classId, split: candidate.givenSplit ?? existing.split, splitSource, relativePath: candidate.relativePath });
    }
  }

  /** Records one skipped file. */
  writeSkip(skip: SkipRecord): void {
    this.upsertSkip.run(this.datasetId, skip.path, skip.kind, skip.reason, skip.size ?? null, skip.mtimeMs ?? null, skip.sha256 ?? null);
  }

  /** After a complete import: images not seen become 'missing' (with the reason when they were skipped), stale skips go. */
  finishComplete(seenOk: ReadonlySet<string>, seenSkips: ReadonlyMap<string, string>, existing: ReadonlyMap<string, ExistingImage>): number {
    const markMissing = this.db.prepare(`UPDATE images SET status = 'missing', error = ? WHERE id = ? AND status != 'missing'`);
    let missing = 0;
    for (const [path, row] of existing) {
      if (!seenOk.has(path)) {
        missing += markMissing.run(seenSkips.get(path) ?? 'file not found at the last import', row.id).changes;
      }
    }
    const stale = this.db.prepare('SELECT id, path FROM import_skips WHERE dataset_id = ?').all(this.datasetId) as Array<{ id: number; path: string }>;
    const drop = this.db.prepare('DELETE FROM import_skips WHERE id = ?');
    for (const row of stale) {
      if (!seenSkips.has(row.path)) {drop.run(row.id);}
    }
    return missing;
  }
}

/** Where an image was found not to decode. */
export type DecodeStep = 'thumbnail' | 'full-size view' | 'training cache';

/**
 * Records that an indexed image's bytes do not decode (found lazily, by a thumbnail or the training cache: the
 * import reads headers and checks structure only). The image is then what a file skipped at import is: status
 * 'missing' with the reason, out of training and the gallery's usable images, counted by the dataset summary,
 * and listed among the dataset's skipped files with kind 'corrupt' — which a re-import keeps while the file's
 * size and modification time are unchanged. Returns false when the image is unknown or already recorded.
 */
export function recordUndecodable(db: Database, imageId: number, message: string, step: DecodeStep): boolean {
  const row = db.prepare('SELECT dataset_id AS datasetId, path, size, mtime_ms AS mtimeMs, sha256, format, status FROM images WHERE id = ?').get(imageId) as
    | { datasetId: number; path: string; size: number; mtimeMs: number; sha256: string; format: string; status: string }
    | undefined;
  if (!row || row.status !== 'ok') {return false;}
  const reason = `corrupt ${row.format.toUpperCase()}: ${message} (found when making its ${step})`;
  db.transaction(() => {
    db.prepare(`UPDATE images SET status = 'missing', error = ? WHERE id = ?`).run(reason, imageId);
    new ImportWriter(db, row.datasetId).writeSkip({ path: row.path, kind: 'corrupt', reason, size: row.size, mtimeMs: row.mtimeMs, sha256: row.sha256 });
    journal(db, 'import', `dataset ${row.datasetId}: ${row.path} is broken: ${reason}`);
  })();
  return true;
}
