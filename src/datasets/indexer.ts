import type { Database } from 'better-sqlite3';
import type { ImportFinished, ImportProgress, ImportRequest } from '../api/datasets.js';
import { ImportWriter, type ExistingImage, type SkipRecord } from './import-writer.js';
import { ProbePool } from './image-probe-pool.js';
import type { ProbedImage } from './image-probe.js';
import { importResult } from './summaries.js';
import { scanSources, type Candidate } from './scan.js';
import { applyAutoSplits, beginImportDataset, carveValidation, journal, pruneEmptyClasses } from './store.js';

/** What an import reports to whoever runs it (the worker relays both to the main thread). */
export interface IndexerHooks {
  progress(progress: ImportProgress): void;
  cancelled(): boolean;
}

/** Files in flight at once: enough to keep every probe thread's queue full. */
const CONCURRENCY = 256;
const BATCH_ROWS = 500;
const BATCH_MS = 300;
const PROGRESS_MS = 150;

type Outcome =
  | { type: 'unchanged'; candidate: Candidate; existing: ExistingImage }
  | { type: 'image'; candidate: Candidate; probe: ProbedImage }
  | { type: 'skip'; candidate: Candidate; skip: SkipRecord; hashed: boolean };

/**
 * Imports sources into a dataset: scan, then probe each file (unchanged files by size+mtime are not re-read),
 * committing in order in batched transactions, then assign splits. Cancelling keeps what was committed.
 */
export async function runImport(db: Database, jobId: string, request: ImportRequest, hooks: IndexerHooks, probes?: ProbePool): Promise<ImportFinished> {
  // The probe threads start now (unless the caller started them earlier), while the sources are scanned.
  const pool = probes ?? new ProbePool();
  try {
    return await importWith(pool, db, jobId, request, hooks);
  } finally {
    await pool.close();
  }
}

async function importWith(pool: ProbePool, db: Database, jobId: string, request: ImportRequest, hooks: IndexerHooks): Promise<ImportFinished> {
  const { row, created } = beginImportDataset(db, request);
  const datasetId = row.id;
  const writer = new ImportWriter(db, datasetId);
  const existing = writer.loadImages();
  const oldSkips = writer.loadSkips();
  const keptByHash = new Map<string, string>();

  const counts = { seen: 0, total: null as number | null, indexed: 0, skipped: 0, duplicates: 0, hashed: 0, processed: 0, toProbe: 0 };
  let phase: ImportProgress['phase'] = 'scanning';
  let currentPath: string | null = null;
  let lastReport = 0;
  let indexStart = 0;
  const report = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_MS) {return;}
    lastReport = now;
    const seconds = indexStart ? (now - indexStart) / 1000 : 0;
    const rate = seconds > 0 ? counts.processed / seconds : 0;
    const left = counts.total === null ? null : counts.toProbe - counts.processed;
    hooks.progress({
      jobId, datasetId, phase, seen: counts.seen, total: counts.total, indexed: counts.indexed, skipped: counts.skipped,
      duplicates: counts.duplicates, hashed: counts.hashed, ratePerSecond: rate,
      etaSeconds: left === null || rate === 0 ? null : Math.max(0, left / rate), currentPath,
    });
  };
  report(true);

  // 1. Scan.
  const { candidates, skips: scanSkips, stopped } = await scanSources(request.paths, {
    onFound(count, path) {
      counts.seen = count;
      currentPath = path;
      report();
    },
    cancelled: hooks.cancelled,
  });
  if (stopped) {
    // Nothing is written: a partial scan would mark the files it did not reach as missing.
    if (created) {db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId);}
    else {db.prepare(`UPDATE datasets SET state = 'incomplete', updated_at = ? WHERE id = ?`).run(Date.now(), datasetId);}
    journal(db, 'import', `import of ${request.paths.join(', ')} stopped: ${stopped}`);
    return { jobId, datasetId: created ? null : datasetId, result: null, error: { code: 'bad_request', message: stopped } };
  }
  // Originals are the images still there unchanged; a file gone or changed since is no one's original any more.
  const found = new Map(candidates.map((c) => [c.path, c]));
  for (const [path, image] of existing) {
    const now = found.get(path);
    if (image.status === 'ok' && now && now.size === image.size && now.mtimeMs === image.mtimeMs) {keptByHash.set(image.sha256, path);}
  }
  counts.total = candidates.length + scanSkips.length;
  counts.skipped = scanSkips.length;
  counts.toProbe = candidates.length;
  const seenOk = new Set<string>();
  const seenSkips = new Map<string, string>();
  db.transaction(() => {
    for (const skip of scanSkips) {
      writer.writeSkip(skip);
      seenSkips.set(skip.path, skip.reason);
    }
  })();

  // 2. Index, committing outcomes in candidate order so that which duplicate is kept never depends on timing.
  phase = 'indexing';
  indexStart = Date.now();
  report(true);
  const results: Array<Outcome | undefined> = new Array(candidates.length);
  let batch: Outcome[] = [];
  let lastFlush = Date.now();
  let launch = 0;
  let commit = 0;

  const flush = (): void => {
    const rows = batch;
    batch = [];
    lastFlush = Date.now();
    db.transaction(() => {
      const images: Array<{ candidate: Candidate; probe: ProbedImage }> = [];
      for (const outcome of rows) {
        if (outcome.type === 'image') {images.push(outcome);}
        write(outcome);
      }
      writer.writeImages(images);
    })();
    // Each commit is reported: a fast import still shows (and can be cancelled at) what it has committed.
    report(true);
  };
  const write = (outcome: Outcome): void => {
    const { candidate } = outcome;
    if (outcome.type === 'unchanged') {
      const old = existing.get(candidate.path)!;
      writer.refresh(candidate, old, false);
      seenOk.add(candidate.path);
    } else if (outcome.type === 'image') {
      // Written by flush, all of the batch's images in one statement.
      seenOk.add(candidate.path);
    } else {
      writer.writeSkip(outcome.skip);
      seenSkips.set(candidate.path, outcome.skip.reason);
    }
  };
  const decide = (outcome: Outcome): Outcome => {
    if (outcome.type !== 'image') {return outcome;}
    const { candidate, probe } = outcome;
    const kept = keptByHash.get(probe.sha256);
    if (kept !== undefined && kept !== candidate.path) {
      return { type: 'skip', candidate, hashed: true, skip: duplicateSkip(candidate, probe.sha256, kept) };
    }
    const old = existing.get(candidate.path);
    if (old && old.sha256 !== probe.sha256 && keptByHash.get(old.sha256) === candidate.path) {keptByHash.delete(old.sha256);}
    keptByHash.set(probe.sha256, candidate.path);
    return outcome;
  };
  const drain = (): void => {
    while (commit < results.length && results[commit] !== undefined) {
      const outcome = decide(results[commit]!);
      results[commit] = undefined;
      commit++;
      counts.processed++;
      if (outcome.type === 'skip') {
        counts.skipped++;
        if (outcome.skip.kind === 'duplicate') {counts.duplicates++;}
      } else {
        counts.indexed++;
      }
      batch.push(outcome);
      if (batch.length >= BATCH_ROWS) {flush();}
    }
    if (batch.length >= BATCH_ROWS || (batch.length > 0 && Date.now() - lastFlush > BATCH_MS)) {flush();}
  };
  const lane = async (): Promise<void> => {
    while (launch < candidates.length && !hooks.cancelled()) {
      const i = launch++;
      const candidate = candidates[i]!;
      currentPath = candidate.path;
      const outcome = await examine(candidate);
      if (outcome.type === 'image' || (outcome.type === 'skip' && outcome.hashed)) {counts.hashed++;}
      results[i] = outcome;
      drain();
      report();
    }
  };
  const examine = async (candidate: Candidate): Promise<Outcome> => {
    const old = existing.get(candidate.path);
    if (old && old.status === 'ok' && old.size === candidate.size && old.mtimeMs === candidate.mtimeMs) {
      return { type: 'unchanged', candidate, existing: old };
    }
    const skipped = oldSkips.get(candidate.path);
    if (skipped && skipped.size === candidate.size && skipped.mtimeMs === candidate.mtimeMs && skipped.kind !== 'unreadable' && skipped.kind !== 'csv') {
      const kept = skipped.sha256 ? keptByHash.get(skipped.sha256) : undefined;
      if (skipped.kind !== 'duplicate') {
        return { type: 'skip', candidate, hashed: false, skip: { ...skipped, path: candidate.path } };
      }
      if (kept !== undefined && kept !== candidate.path) {
        return { type: 'skip', candidate, hashed: false, skip: duplicateSkip(candidate, skipped.sha256!, kept) };
      }
    }
    const probe = await pool.probe(candidate.path, candidate.size);
    if (probe.ok) {return { type: 'image', candidate, probe };}
    return {
      type: 'skip',
      candidate,
      hashed: probe.sha256 !== undefined,
      skip: { path: candidate.path, kind: probe.kind, reason: probe.reason, size: candidate.size, mtimeMs: candidate.mtimeMs, sha256: probe.sha256 ?? null },
    };
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  drain();
  if (batch.length > 0) {flush();}

  // 3. Finish: splits, missing files, state.
  const cancelled = hooks.cancelled();
  phase = 'splitting';
  report(true);
  db.transaction(() => {
    if (!cancelled) {writer.finishComplete(seenOk, seenSkips, existing);}
    pruneEmptyClasses(db, datasetId);
    carveValidation(db, datasetId);
    applyAutoSplits(db, datasetId);
    db.prepare('UPDATE datasets SET state = ?, updated_at = ? WHERE id = ?').run(cancelled ? 'incomplete' : 'ready', Date.now(), datasetId);
  })();
  phase = 'done';
  currentPath = null;
  report(true);

  const usable = (db.prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'ok'`).get(datasetId) as { n: number }).n;
  const summary = `${counts.indexed} indexed (${counts.hashed} read), ${counts.skipped} skipped, ${counts.duplicates} duplicates`;
  if (cancelled) {
    journal(db, 'import', `dataset ${datasetId}: import cancelled after ${summary}`);
    return { jobId, datasetId, result: null, error: { code: 'cancelled', message: `Import cancelled: ${summary}. Import again to continue.` } };
  }
  if (usable === 0 && created) {
    const skipped = importResult(db, datasetId).skipped;
    db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId);
    const message =
      counts.total === 0
        ? 'Nothing to import: no image files were found.'
        : `Nothing could be imported: ${skipped.length === 1 ? 'the one file found was skipped' : `all ${skipped.length} files were skipped`}.`;
    return { jobId, datasetId: null, result: null, error: { code: 'bad_request', message, skipped } };
  }
  journal(db, 'import', `dataset ${datasetId} "${row.name}": ${summary}`);
  return { jobId, datasetId, result: importResult(db, datasetId), error: null };
}

function duplicateSkip(candidate: Candidate, sha256: string, kept: string): SkipRecord {
  return { path: candidate.path, kind: 'duplicate', reason: `duplicate of ${kept}`, size: candidate.size, mtimeMs: candidate.mtimeMs, sha256 };
}
