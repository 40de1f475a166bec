import { z } from 'zod';
import { method, NoInput } from './schema.js';

const Id = z.number().int().positive();
const Count = z.number().int().nonnegative();

/** Which part of a dataset an image serves: training, validation (model selection), or held-out test. */
export const SplitName = z.enum(['train', 'val', 'test']);
export type SplitName = z.infer<typeof SplitName>;

/** Image counts per split. */
export const SplitCounts = z.object({ train: Count, val: Count, test: Count });
export type SplitCounts = z.infer<typeof SplitCounts>;

/** Fractions of each class that go to train/val/test, and the seed of the deterministic stratified assignment. */
const SplitFields = z.object({
  train: z.number().min(0).max(1),
  val: z.number().min(0).max(1),
  test: z.number().min(0).max(1),
  seed: z.number().int().nonnegative().max(2 ** 31 - 1).default(0),
});
const splitAddsUp = (s: { train: number; val: number; test: number }): boolean => Math.abs(s.train + s.val + s.test - 1) < 1e-6 && s.train > 0;
const SPLIT_MESSAGE = { message: 'train + val + test must add up to 1, with train above 0' };
export const SplitRequest = SplitFields.refine(splitAddsUp, SPLIT_MESSAGE);
export type SplitRequest = z.infer<typeof SplitRequest>;

/** One line of the datasets list. */
export const DatasetSummary = z.object({
  id: Id,
  name: z.string(),
  /** Milliseconds since the epoch. */
  createdAt: z.number(),
  /** The absolute paths the dataset was imported from (folders, files, or a CSV/TSV). */
  sourcePaths: z.array(z.string()),
  /** Images that are indexed, present and not excluded (what training would use). */
  images: Count,
  /** Number of classes with at least one usable image. */
  classes: Count,
  splits: SplitCounts,
  /** Smallest and largest usable class sizes (class balance at a glance); 0 when there are no classes. */
  balance: z.object({ smallest: Count, largest: Count }),
  /** Total bytes of the usable source images on disk. */
  sizeBytes: Count,
  /** 'ready' after a finished import; 'importing' while one runs; 'incomplete' after a cancelled, failed or killed import. */
  state: z.enum(['ready', 'importing', 'incomplete']),
  /** Sentences a user should read: classes with very few images, heavy imbalance, an empty split, an unfinished import. */
  warnings: z.array(z.string()),
});
export type DatasetSummary = z.infer<typeof DatasetSummary>;

/** One class of a dataset with its usable image count, in total and per split. */
export const ClassSummary = z.object({ id: Id, name: z.string(), count: Count, splitCounts: SplitCounts });
export type ClassSummary = z.infer<typeof ClassSummary>;

/** Per-dataset RGB statistics on the 0–255 scale (computed by training; null until then). */
export const ColourStats = z.object({
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number(), z.number(), z.number()]),
  eigvals: z.tuple([z.number(), z.number(), z.number()]),
  eigvecs: z.array(z.tuple([z.number(), z.number(), z.number()])).length(3),
});
export type ColourStats = z.infer<typeof ColourStats>;

/** Everything about one dataset: its summary plus classes, split settings and counts of what was left out. */
export const DatasetDetail = DatasetSummary.extend({
  classList: z.array(ClassSummary),
  /**
   * The split fractions and seed; `given` when the source fixed the splits (train/val/test folders or a CSV split column);
   * `valFromTrain`: the share of each class's given training images carved out as validation (the source gave none;
   * its test split is kept as given), null when the validation split was not carved.
   */
  split: z.object({ train: z.number(), val: z.number(), test: z.number(), seed: z.number().int(), given: z.boolean(), valFromTrain: z.number().nullable() }),
  colourStats: ColourStats.nullable(),
  /** Files the last import(s) skipped (see `datasets.skipped`); duplicates are counted among them. */
  skipped: Count,
  /** Of the skipped files, those whose content duplicates an image already in the dataset. */
  duplicates: Count,
  /** Images a user excluded (kept in the library, left out of training). */
  excluded: Count,
  /** Images indexed earlier whose source file was gone at the last import. */
  missing: Count,
});
export type DatasetDetail = z.infer<typeof DatasetDetail>;

/** Why a file was not imported, as a category the UI can group by. */
export const SkipKind = z.enum([
  'empty',
  'corrupt',
  'not-image',
  'unsupported',
  'too-large',
  'unreadable',
  'symlink-loop',
  'bad-name',
  'duplicate',
  'no-class',
  'csv',
  /** A named pipe, socket or device (or a link to one): never opened. */
  'special-file',
  /** A symbolic link to a folder outside the imported folder, or to one imported already: not followed. */
  'link',
]);
export type SkipKind = z.infer<typeof SkipKind>;

/** One skipped file and the reason, in words (the CLI's `--json` shape). */
export const SkippedFile = z.object({ path: z.string(), reason: z.string() });
export type SkippedFile = z.infer<typeof SkippedFile>;

/** What an import produced: exactly what `convnet import --json` prints. */
export const ImportResult = z.object({
  dataset: z.object({
    id: Id,
    name: z.string(),
    images: Count,
    classes: z.array(z.object({ name: z.string(), count: Count })),
    splits: SplitCounts,
  }),
  skipped: z.array(SkippedFile),
});
export type ImportResult = z.infer<typeof ImportResult>;

/** Input of `datasets.import`. */
export const ImportRequest = z.object({
  /** Absolute paths: folders (class-per-sub-folder or train/val/test), image files, or one .csv/.tsv of path,label[,split]. */
  paths: z.array(z.string().min(1)).min(1).max(1000),
  name: z.string().trim().min(1).max(200).optional(),
  /** Fractions for a stratified split when the source gives none (default 80/10/10, seed 0). */
  split: SplitRequest.optional(),
  /**
   * When the source gives training (and test) images but no validation split: the share of each class's training
   * images carved out, stratified and seeded, as validation (default 0.1; 0 = none). Kept for later re-imports.
   */
  valFromTrain: z.number().min(0).max(0.5).optional(),
  /** Re-import into this dataset; by default a dataset with the same source paths is updated, else a new one is made. */
  datasetId: Id.optional(),
});
export type ImportRequest = z.infer<typeof ImportRequest>;

/** Progress of one import, streamed while it runs. */
export const ImportProgress = z.object({
  jobId: z.string(),
  datasetId: Id.nullable(),
  /** scanning: walking folders; indexing: hashing and checking images; splitting: assigning splits; done. */
  phase: z.enum(['scanning', 'indexing', 'splitting', 'done']),
  /** Files found so far. */
  seen: Count,
  /** Files to look at in total (known once scanning ends). */
  total: Count.nullable(),
  /** Images indexed (including unchanged ones from an earlier import). */
  indexed: Count,
  skipped: Count,
  /** Of the skipped, duplicates by content. */
  duplicates: Count,
  /** Of the indexed, files read and hashed in this import (unchanged files are not re-read). */
  hashed: Count,
  ratePerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  currentPath: z.string().nullable(),
});
export type ImportProgress = z.infer<typeof ImportProgress>;

/** The end of an import: a result, or an error (`cancelled` when a user stopped it). */
export const ImportFinished = z.object({
  jobId: z.string(),
  datasetId: Id.nullable(),
  result: ImportResult.nullable(),
  error: z.object({ code: z.string(), message: z.string(), skipped: z.array(SkippedFile).optional() }).nullable(),
});
export type ImportFinished = z.infer<typeof ImportFinished>;

/** An import running now (so a reloaded UI can reattach to its events). */
export const ImportJob = z.object({
  jobId: z.string(),
  paths: z.array(z.string()),
  name: z.string().nullable(),
  startedAt: z.number(),
  progress: ImportProgress,
});
export type ImportJob = z.infer<typeof ImportJob>;

/** Statuses `images.list` filters by: usable, excluded by a user, or every indexed image. */
export const ImageStatusFilter = z.enum(['ok', 'excluded', 'all']);

/** One row of the image grid. */
export const ImageListItem = z.object({
  id: Id,
  fileName: z.string(),
  classId: Id,
  className: z.string(),
  split: SplitName,
  width: Count,
  height: Count,
  format: z.string(),
  excluded: z.boolean(),
});
export type ImageListItem = z.infer<typeof ImageListItem>;

/** Everything the library knows about one image. */
export const ImageDetail = ImageListItem.extend({
  datasetId: Id,
  /** Absolute path of the source file. */
  path: z.string(),
  /** Path relative to the folder (or CSV's folder) it was imported from. */
  relativePath: z.string(),
  sha256: z.string(),
  sizeBytes: Count,
  /** Source file modification time, milliseconds since the epoch. */
  mtime: z.number(),
  /** 'ok', or 'missing': the source file was gone at the last import, or it does not decode (found when a thumbnail, the full-size view or the training cache was made). */
  status: z.enum(['ok', 'missing']),
  /** Why the image is unusable, in words (null while it is ok). */
  error: z.string().nullable(),
  /** Where the split came from: the source layout, the stratified assignment, or a user's edit. */
  splitSource: z.enum(['given', 'auto', 'manual']),
  /** The class as the source named it (differs from className after a relabel). */
  originalClassName: z.string(),
  indexedAt: z.number(),
});
export type ImageDetail = z.infer<typeof ImageDetail>;

const DatasetRef = z.object({ id: Id });

/** Media URLs every host serves (`GET`, same token/cookie as the UI): a webp thumbnail (longer side ≤ 256) and the image itself (TIFF re-encoded). */
export const mediaUrl = {
  thumb: (imageId: number): string => `/media/thumb/${imageId}`,
  image: (imageId: number): string => `/media/image/${imageId}`,
};

export const datasetMethods = {
  'datasets.list': method('Every dataset with counts, class balance, size on disk and warnings.', NoInput, z.array(DatasetSummary)),
  'datasets.get': method('One dataset: summary, classes with per-split counts, split settings.', DatasetRef, DatasetDetail),
  'datasets.import': method(
    'Start importing folders, image files or a CSV/TSV; progress arrives as import.progress, the end as import.finished.',
    ImportRequest,
    z.object({ jobId: z.string() }),
  ),
  'datasets.cancelImport': method('Stop a running import; what was indexed stays and a re-run continues.', z.object({ jobId: z.string() }), z.object({ cancelled: z.boolean() })),
  'datasets.importJobs': method('Imports running now, with their latest progress.', NoInput, z.array(ImportJob)),
  'datasets.skipped': method(
    'Files the last import(s) of a dataset skipped, with reasons.',
    z.object({ id: Id, offset: Count.default(0), limit: z.number().int().min(1).max(1000).default(200) }),
    z.array(SkippedFile.extend({ kind: SkipKind })),
  ),
  'datasets.rename': method('Rename a dataset.', z.object({ id: Id, name: z.string().trim().min(1).max(200) }), DatasetSummary),
  'datasets.delete': method('Remove a dataset from the library (source files are never touched).', DatasetRef, z.object({ deleted: z.boolean() })),
  'datasets.resplit': method(
    'Reassign train/val/test by a deterministic stratified split (replaces given and edited splits); with keepTest, only train and val are re-split and the test split stays as it is (carving validation out of train).',
    SplitFields.extend({
      id: Id,
      /** Keep every test image where it is and split the others into train/val (test must then be 0). */
      keepTest: z.boolean().default(false),
    })
      .refine(splitAddsUp, SPLIT_MESSAGE)
      .refine((s) => !s.keepTest || s.test === 0, { message: 'with keepTest the test images stay as they are: test must be 0' }),
    DatasetDetail,
  ),
  'images.list': method(
    'One page of a dataset\'s images, filtered and sorted, with the total that match.',
    z.object({
      datasetId: Id,
      classId: Id.optional(),
      split: SplitName.optional(),
      status: ImageStatusFilter.default('ok'),
      /** Substring of the file name (case-insensitive for ASCII). */
      search: z.string().max(200).optional(),
      offset: Count.default(0),
      limit: z.number().int().min(1).max(500).default(100),
      sort: z.enum(['name', 'added', 'class', 'size']).default('name'),
      /**
       * The `next` of the page that ends just before `offset`, with the same filters and sort: the page is then
       * read from that point (a seek) instead of by skipping `offset` images. Ignored, and `offset` used, when
       * the list changed since that page was read.
       */
      after: z.string().max(8192).optional(),
    }),
    z.object({
      total: Count,
      items: z.array(ImageListItem),
      /** Cursor to pass as `after` for the page that follows this one; absent when the page is empty. */
      next: z.string().optional(),
    }),
  ),
  'images.get': method('Everything about one image.', DatasetRef, ImageDetail),
  'images.update': method(
    'Relabel, move to another split, or exclude/include images (library only; files untouched). Journaled.',
    z
      .object({ ids: z.array(Id).min(1).max(100_000), classId: Id.optional(), split: SplitName.optional(), excluded: z.boolean().optional() })
      .refine((u) => u.classId !== undefined || u.split !== undefined || u.excluded !== undefined, { message: 'say what to change: classId, split or excluded' }),
    z.object({ updated: Count }),
  ),
};

export const datasetEvents = {
  'import.progress': ImportProgress,
  'import.finished': ImportFinished,
};
