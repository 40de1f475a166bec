import type { Database } from 'better-sqlite3';
import type { EpochMetrics, RunDetail, RunStatus, RunSummary, TrainConfig } from '../api/runs.js';
import { ApiError } from '../api/errors.js';
import { inputSizeOf } from './config.js';
import { describeOwner, HEARTBEAT_EVERY_MS, LIVE_SQL, LIVE_STATUSES, ownerGone, ownerOfThisProcess, type OwnerColumns } from './run-owner.js';
import { configOfRun } from './run-config.js';

interface RunRow {
  id: number;
  dataset_id: number | null;
  dataset_name: string | null;
  arch: string;
  status: RunStatus;
  config: string;
  config_diff: string;
  classes: string;
  snapshot_hash: string | null;
  colour_stats: string | null;
  backend: string | null;
  device: string | null;
  threads: number | null;
  epochs_done: number;
  best_top1: number | null;
  best_top5: number | null;
  seconds: number;
  error: string | null;
  tags: string;
  note: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
  /** From the run's stored test predictions (null until computed, or without a test split). */
  test_top1: number | null;
  test_top5: number | null;
  owner_pid: number | null;
  owner_host: string | null;
  parent_run_id: number | null;
  origin: 'local' | 'torch-bundle';
  parent_model_id: number | null;
  parent_run_arch: string | null;
  parent_run_dataset: string | null;
  parent_model_name: string | null;
}

/** A run row with its test error from the stored test predictions (computed after training or by runs.predict). */
const RUN_SELECT = `SELECT runs.*, t.top1_error AS test_top1, t.top5_error AS test_top5,
    pr.arch AS parent_run_arch, pr.dataset_name AS parent_run_dataset, pm.name AS parent_model_name
  FROM runs LEFT JOIN prediction_sets t ON t.run_id = runs.id AND t.split = 'test'
    LEFT JOIN runs pr ON pr.id = runs.parent_run_id LEFT JOIN models pm ON pm.id = runs.parent_model_id`;

/** Reads the raw row of a run, or throws not_found. A live run whose owning process is gone reads as interrupted. */
export function runRow(db: Database, id: number): RunRow {
  const read = (): RunRow | undefined => db.prepare(`${RUN_SELECT} WHERE runs.id = ?`).get(id) as RunRow | undefined;
  let row = read();
  if (!row) {
    throw new ApiError('not_found', `Run ${id} does not exist.`);
  }
  if ((LIVE_STATUSES as readonly string[]).includes(row.status) && settleOrphanedRuns(db, id) > 0) {
    row = read()!;
  }
  return row;
}

function summaryOf(row: RunRow): RunSummary {
  // A run whose stored config no longer parses is still listed, saying so, so it never hides the others.
  let config: TrainConfig | null = null;
  let broken: string | null = null;
  try {
    config = configOfRun(row);
  } catch (err) {
    broken = err instanceof Error ? err.message : String(err);
  }
  return {
    id: row.id,
    datasetId: row.dataset_id ?? 0,
    datasetName: row.dataset_name,
    arch: row.arch as RunSummary['arch'],
    status: row.status,
    backend: row.backend,
    device: row.device,
    epochsDone: row.epochs_done,
    epochs: config?.epochs ?? 0,
    bestValTop1Error: row.best_top1,
    bestValTop5Error: row.best_top5,
    testTop1Error: row.test_top1,
    testTop5Error: row.test_top5,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: broken ?? row.error,
    tags: JSON.parse(row.tags) as string[],
    note: row.note,
    trainingElsewhere: isLiveElsewhere(row) ? describeOwner(row) : null,
    origin: row.origin,
    parentRunId: row.parent_run_id,
    parent: parentOf(row, config),
  };
}

/** The run or model a run started from, named as the lineage shows it; a deleted parent keeps its id from the config, without a name. */
function parentOf(row: RunRow, config: TrainConfig | null): RunSummary['parent'] {
  if (row.parent_run_id !== null) {
    return { kind: 'run', id: row.parent_run_id, name: `${row.parent_run_arch} on ${row.parent_run_dataset ?? 'a deleted dataset'}` };
  }
  if (row.parent_model_id !== null) {
    return { kind: 'model', id: row.parent_model_id, name: row.parent_model_name };
  }
  return config?.initFrom ? { ...config.initFrom, name: null } : null;
}

/** Whether a live run is owned by a process other than this one. */
function isLiveElsewhere(row: RunRow): boolean {
  const me = ownerOfThisProcess();
  return (LIVE_STATUSES as readonly string[]).includes(row.status) && !(row.owner_pid === me.pid && row.owner_host === me.host);
}

/** One run's summary. */
export function getRunSummary(db: Database, id: number): RunSummary {
  return summaryOf(runRow(db, id));
}

/** All runs, newest first (live runs whose owning process is gone read as interrupted). */
export function listRuns(db: Database): RunSummary[] {
  settleOrphanedRuns(db);
  return (db.prepare(`${RUN_SELECT} ORDER BY runs.id DESC`).all() as RunRow[]).map(summaryOf);
}

/** Metrics of every finished epoch of a run, in order. */
export function runEpochs(db: Database, id: number): EpochMetrics[] {
  return (
    db.prepare('SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch').all(id) as Array<{
      epoch: number;
      train_loss: number;
      val_loss: number | null;
      val_top1: number | null;
      val_top5: number | null;
      lr: number;
      images_per_second: number;
      seconds: number;
    }>
  ).map((e) => ({
    epoch: e.epoch,
    trainLoss: e.train_loss,
    valLoss: e.val_loss,
    valTop1Error: e.val_top1,
    valTop5Error: e.val_top5,
    lr: e.lr,
    imagesPerSecond: e.images_per_second,
    seconds: e.seconds,
  }));
}

/** Everything about a run for its page. */
export function getRunDetail(db: Database, id: number): RunDetail {
  const row = runRow(db, id);
  const log = db.prepare('SELECT time, level, message FROM run_log WHERE run_id = ? ORDER BY id').all(id) as RunDetail['log'];
  const config = configOfRun(row);
  return {
    ...summaryOf(row),
    config,
    configDiff: JSON.parse(row.config_diff),
    threads: row.threads,
    inputSize: inputSizeOf(config),
    snapshotHash: row.snapshot_hash,
    classes: JSON.parse(row.classes),
    epochsData: runEpochs(db, id),
    log,
  };
}

/** Appends a line to a run's log. */
export function logRun(db: Database, id: number, level: 'info' | 'warn' | 'error', message: string): void {
  db.prepare('INSERT INTO run_log (run_id, time, level, message) VALUES (?, ?, ?, ?)').run(id, Date.now(), level, message);
}

/** Sets a run's status (and its finish time and error for final states). */
export function setRunStatus(db: Database, id: number, status: RunStatus, error: string | null = null): void {
  const final = status === 'completed' || status === 'stopped' || status === 'failed' || status === 'interrupted';
  db.prepare('UPDATE runs SET status = ?, error = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END, heartbeat_at = ? WHERE id = ?').run(
    status,
    error,
    final ? 1 : 0,
    Date.now(),
    Date.now(),
    id,
  );
}

/** Marks a run as training from now: running, started (once), its last error and finish cleared. */
export function markRunStarted(db: Database, id: number): void {
  setRunStatus(db, id, 'running');
  db.prepare('UPDATE runs SET started_at = COALESCE(started_at, ?), error = NULL, finished_at = NULL WHERE id = ?').run(Date.now(), id);
}

/** Stores the dataset snapshot's classes and hash with a run (taken at its first start). */
export function recordRunSnapshot(db: Database, id: number, classes: string[], hash: string): void {
  db.prepare('UPDATE runs SET classes = ?, snapshot_hash = ? WHERE id = ?').run(JSON.stringify(classes), hash, id);
}

/** Stores the colour statistics a run normalises its inputs with. */
export function recordRunColourStats(db: Database, id: number, stats: unknown): void {
  db.prepare('UPDATE runs SET colour_stats = ? WHERE id = ?').run(JSON.stringify(stats), id);
}

/** Creates a run's row, queued and owned by this process (and linked to its parent when fine-tuned); returns its id. */
export function insertRun(db: Database, dataset: { id: number; name: string }, config: TrainConfig, diff: Record<string, unknown>, parent: { kind: 'run' | 'model'; id: number } | null): number {
  const now = Date.now();
  const { pid, host } = ownerOfThisProcess();
  const id = Number(
    db
      .prepare(
        `INSERT INTO runs (dataset_id, dataset_name, arch, status, config, config_diff, created_at, heartbeat_at, owner_pid, owner_host)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
      )
      .run(dataset.id, dataset.name, config.arch, JSON.stringify(config), JSON.stringify(diff), now, now, pid, host).lastInsertRowid,
  );
  if (parent) {
    linkRunParent(db, id, parent);
  }
  return id;
}

/** Links a run to the run or model it was fine-tuned from. */
export function linkRunParent(db: Database, id: number, parent: { kind: 'run' | 'model'; id: number }): void {
  db.prepare(`UPDATE runs SET ${parent.kind === 'run' ? 'parent_run_id' : 'parent_model_id'} = ? WHERE id = ?`).run(parent.id, id);
}

/** Puts back a run's status and error as they were (a resume whose worker could not start). */
export function restoreRunStatus(db: Database, id: number, before: { status: RunStatus; error: string | null }): void {
  db.prepare('UPDATE runs SET status = ?, error = ? WHERE id = ?').run(before.status, before.error, id);
}

/** Records the backend a run trains on (threads: of the wasm backend, else null). */
export function recordRunBackend(db: Database, id: number, backend: { name: string; device: string | null; threads: number | null }): void {
  db.prepare('UPDATE runs SET backend = ?, device = ?, threads = ? WHERE id = ?').run(backend.name, backend.device, backend.threads, id);
}

/** Sets a run's tags (deduplicated, in the given order) and/or note. */
export function updateRunMeta(db: Database, id: number, edit: { tags?: string[] | undefined; note?: string | undefined }): void {
  runRow(db, id);
  if (edit.tags !== undefined) {
    db.prepare('UPDATE runs SET tags = ? WHERE id = ?').run(JSON.stringify([...new Set(edit.tags)]), id);
  }
  if (edit.note !== undefined) {
    db.prepare('UPDATE runs SET note = ? WHERE id = ?').run(edit.note, id);
  }
}

/** Deletes a run's rows (epochs, log, snapshot, predictions go with it by cascade); its folder is the caller's. */
export function deleteRunRows(db: Database, id: number): boolean {
  return db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
}

/** Stores one finished epoch's metrics and where the run stands (epochs done, best errors, training time). */
export function recordEpoch(
  db: Database,
  runId: number,
  metrics: EpochMetrics | null,
  position: { epoch: number; seconds: number; best: { top1: number | null; top5: number | null } },
): void {
  db.transaction(() => {
    if (metrics) {
      db.prepare(
        `INSERT OR REPLACE INTO epochs (run_id, epoch, train_loss, val_loss, val_top1, val_top5, lr, images_per_second, seconds, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(runId, metrics.epoch, metrics.trainLoss, metrics.valLoss, metrics.valTop1Error, metrics.valTop5Error, metrics.lr, metrics.imagesPerSecond, metrics.seconds, Date.now());
    }
    db.prepare('UPDATE runs SET epochs_done = ?, best_top1 = ?, best_top5 = ?, seconds = ? WHERE id = ?').run(
      position.epoch,
      position.best.top1,
      position.best.top5,
      position.seconds,
      runId,
    );
  })();
}

// Ownership: which process trains a live run (rules in run-owner.ts).

/** Marks live runs (all, or just `id`) whose owner is gone as interrupted, so they can be resumed or deleted; returns how many. */
export function settleOrphanedRuns(db: Database, id?: number, now = Date.now()): number {
  if (db.readonly) {
    return 0;
  }
  const rows = (
    id === undefined
      ? db.prepare(`SELECT id, owner_pid, owner_host, heartbeat_at FROM runs WHERE ${LIVE_SQL}`).all()
      : db.prepare(`SELECT id, owner_pid, owner_host, heartbeat_at FROM runs WHERE ${LIVE_SQL} AND id = ?`).all(id)
  ) as Array<OwnerColumns & { id: number }>;
  let settled = 0;
  for (const row of rows.filter((r) => ownerGone(r, now))) {
    const why = row.owner_pid === null ? 'The process training this run' : `The process training this run (${describeOwner(row)})`;
    // Only if nobody claimed the run in between (same owner, still live).
    settled += db
      .prepare(`UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND ${LIVE_SQL} AND owner_pid IS ? AND owner_host IS ?`)
      .run(`${why} ended unexpectedly; resume continues from its last checkpoint.`, now, row.id, row.owner_pid, row.owner_host).changes;
  }
  return settled;
}

/** Makes this process the owner of a run that no process trains (status → queued), atomically; throws `conflict` if one does. */
export function claimRun(db: Database, id: number, now = Date.now()): void {
  settleOrphanedRuns(db, id, now);
  const claimed = db
    .prepare(`UPDATE runs SET status = 'queued', owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ? AND NOT ${LIVE_SQL}`)
    .run(ownerOfThisProcess().pid, ownerOfThisProcess().host, now, id).changes;
  if (claimed === 0) {
    const row = db.prepare('SELECT status, owner_pid, owner_host FROM runs WHERE id = ?').get(id) as (Pick<OwnerColumns, 'owner_pid' | 'owner_host'> & { status: string }) | undefined;
    throw new ApiError(row ? 'conflict' : 'not_found', row ? `Run ${id} is ${row.status} in ${describeOwner(row)}; stop it there first.` : `Run ${id} does not exist.`);
  }
}

/** Stamps the run's heartbeat now and every few seconds (with this process as its owner); returns the stop function. */
export function startHeartbeat(db: Database, runId: number): () => void {
  const { pid, host } = ownerOfThisProcess();
  const beat = (): void => void db.prepare('UPDATE runs SET heartbeat_at = ?, owner_pid = ?, owner_host = ? WHERE id = ?').run(Date.now(), pid, host, runId);
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  return () => clearInterval(timer);
}
