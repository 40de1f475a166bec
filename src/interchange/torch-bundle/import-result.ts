// `convnet runs import DIR`: a trained torch bundle's result/ becomes a run of the library, linked to the run
// it was exported from (same dataset and snapshot), with our checkpoint made from its weights and its epochs.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EpochMetrics, TrainConfig } from '../../api/runs.js';
import { EpochMetrics as EpochMetricsSchema } from '../../api/runs.js';
import { ApiError } from '../../api/errors.js';
import type { Library } from '../../library/open.js';
import { ARCHS, describeModel, type ArchName } from '../../model/index.js';
import { checkpointDir, loadCheckpoint, type CheckpointMeta } from '../../runs/checkpoint.js';
import { configDiff, inputSizeOf } from '../../runs/config.js';
import { logRun, runRow } from '../../runs/run-store.js';
import { BUNDLE_FORMAT } from './export-bundle.js';
import { decodeSafetensors } from './safetensors.js';
import { fromTorchState } from './weights.js';
import { runDirOf } from '../../runs/run-folder.js';

/** What `result/result.json` holds (written by the bundle's train.py). */
interface ResultJson {
  format: string;
  parentRunId: number;
  snapshotHash: string;
  epochs: number;
  config: TrainConfig;
  worldSize: number;
  backend: string;
  device: string;
  torch: string;
  seconds: number;
  finalVal: { valLoss: number | null; valTop1Error: number | null; valTop5Error: number | null } | null;
}

/** The bundle's own figures for the imported run: its last epoch's validation errors and where it trained. */
export interface BundleReport {
  epochs: number;
  valTop1Error: number | null;
  valTop5Error: number | null;
  valLoss: number | null;
  trainedOn: string;
}

function readJson<T>(file: string, what: string): T {
  if (!fs.existsSync(file)) {
    throw new ApiError('not_found', `${file} does not exist: ${what}`);
  }
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new ApiError('bad_request', `${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
}

/** Reads and checks result/metrics.jsonl: one EpochMetrics per line, epochs 1..n in order. */
function readMetrics(file: string): EpochMetrics[] {
  if (!fs.existsSync(file)) {
    throw new ApiError('not_found', `${file} does not exist: the bundle has not finished an epoch.`);
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  return lines.map((line, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new ApiError('bad_request', `${file} line ${i + 1} is not JSON.`);
    }
    const m = EpochMetricsSchema.safeParse(parsed);
    if (!m.success || m.data.epoch !== i + 1) {
      throw new ApiError('bad_request', `${file} line ${i + 1} is not epoch ${i + 1}'s metrics${m.success ? '' : `: ${m.error.issues[0]?.path.join('.')} ${m.error.issues[0]?.message}`}.`);
    }
    return m.data;
  });
}

/**
 * Adds the result of a trained bundle as a completed run: origin 'torch-bundle', parent = the exported run,
 * the parent's dataset, snapshot (run_images), classes and colour statistics; our checkpoint from
 * result/weights.safetensors; one epochs row per line of result/metrics.jsonl. Returns the new run's id.
 */
export function importTorchResult(library: Library, bundleDir: string): { runId: number; bundle: BundleReport } {
  const dir = path.resolve(bundleDir);
  const cfg = readJson<{ format?: string; run?: { id: number; snapshotHash: string }; arch?: string }>(path.join(dir, 'config.json'), 'not a bundle made by `convnet export --format torch`.');
  if (cfg.format !== BUNDLE_FORMAT || !cfg.run) {
    throw new ApiError('bad_request', `${dir}/config.json is not a ConvNet Studio torch bundle's (format "${String(cfg.format)}").`);
  }
  const resultDir = path.join(dir, 'result');
  const result = readJson<ResultJson>(path.join(resultDir, 'result.json'), 'the bundle has not been trained to the end yet (train.py writes it when it finishes).');
  const metrics = readMetrics(path.join(resultDir, 'metrics.jsonl'));
  if (metrics.length !== result.epochs) {
    throw new ApiError('bad_request', `result/metrics.jsonl has ${metrics.length} epochs, result.json says ${result.epochs}.`);
  }
  const db = library.db;
  let parent: ReturnType<typeof runRow>;
  try {
    parent = runRow(db, cfg.run.id);
  } catch {
    throw new ApiError('not_found', `The bundle was exported from run ${cfg.run.id}, which is not in this library: import it into the library it came from.`);
  }
  if (parent.snapshot_hash !== cfg.run.snapshotHash || result.snapshotHash !== cfg.run.snapshotHash) {
    throw new ApiError('conflict', `Run ${cfg.run.id} of this library trained on other data than the bundle (snapshot ${String(parent.snapshot_hash).slice(0, 12)} here, ${cfg.run.snapshotHash.slice(0, 12)} in the bundle): it was exported from another library.`);
  }
  const parentCheckpoint = loadCheckpoint(runDirOf(library.dir, parent.id));
  if (!parentCheckpoint) {
    throw new ApiError('conflict', `Run ${parent.id} has no checkpoint any more; the imported weights need its topology.`);
  }
  const parentConfig = parentCheckpoint.meta.config;
  const arch = parentCheckpoint.meta.arch as ArchName;
  const classes = parentCheckpoint.meta.classes;
  const rows = describeModel(arch, {
    numClasses: classes.length,
    inputSize: inputSizeOf(parentConfig),
    lrn: parentConfig.lrn ?? ARCHS[arch].defaultLrn,
    dropout: parentConfig.dropout,
    init: parentConfig.init ?? ARCHS[arch].defaultInit,
  });
  const specs = parentCheckpoint.artifacts.weightSpecs ?? [];
  const weightsFile = path.join(resultDir, 'weights.safetensors');
  if (!fs.existsSync(weightsFile)) {
    throw new ApiError('not_found', `${weightsFile} does not exist: train.py writes it after every epoch.`);
  }
  const weightBytes = fs.readFileSync(weightsFile);
  // The same result imported twice would be two identical runs: the weights' hash, kept in the run's log, says so.
  const fingerprint = `result weights sha256 ${createHash('sha256').update(weightBytes).digest('hex')}`;
  const earlier = db
    .prepare(`SELECT runs.id FROM runs JOIN run_log l ON l.run_id = runs.id WHERE runs.origin = 'torch-bundle' AND l.message LIKE ? ORDER BY runs.id LIMIT 1`)
    .get(`%${fingerprint}%`) as { id: number } | undefined;
  if (earlier) {
    throw new ApiError('conflict', `This result is already in the library as run ${earlier.id}.`);
  }
  let weightData: ArrayBuffer;
  try {
    weightData = fromTorchState(rows, specs, decodeSafetensors(weightBytes));
  } catch (err) {
    throw new ApiError('bad_request', `result/weights.safetensors does not fit run ${parent.id}'s network: ${err instanceof Error ? err.message : String(err)}.`);
  }
  // The recipe the bundle ran: the parent's, with what train.py was told to change (epochs, lr, batch).
  const config: TrainConfig = { ...parentConfig, epochs: result.epochs, lr: result.config.lr ?? parentConfig.lr, batchSize: result.config.batchSize ?? parentConfig.batchSize };
  const last = metrics.at(-1)!;
  const withVal = metrics.filter((m) => m.valTop1Error !== null);
  const best = withVal.length ? withVal.reduce((a, b) => (b.valTop1Error! < a.valTop1Error! ? b : a)) : null;
  const trainedOn = `PyTorch ${result.torch}, ${result.worldSize} process${result.worldSize === 1 ? '' : 'es'} (${result.backend}) on ${result.device}`;
  const now = Date.now();
  const runDir = (id: number): string => runDirOf(library.dir, id);
  let runId = 0;
  db.transaction(() => {
    runId = Number(
      db
        .prepare(
          `INSERT INTO runs (dataset_id, dataset_name, arch, status, config, config_diff, classes, snapshot_hash, colour_stats, backend, device, threads,
             epochs_done, best_top1, best_top5, seconds, created_at, started_at, finished_at, heartbeat_at, parent_run_id, origin)
           VALUES (?, ?, ?, 'completed', ?, ?, ?, ?, ?, 'torch', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'torch-bundle')`,
        )
        .run(
          parent.dataset_id, parent.dataset_name, arch, JSON.stringify(config), JSON.stringify(configDiff(config)), JSON.stringify(classes), parent.snapshot_hash,
          parent.colour_stats, `${result.worldSize} × ${result.device} (${result.backend})`, null, metrics.length, best?.valTop1Error ?? null, best?.valTop5Error ?? null, result.seconds,
          now, now - Math.round(result.seconds * 1000), now, now, parent.id,
        ).lastInsertRowid,
    );
    db.prepare('INSERT INTO run_images (run_id, image_id, label, split) SELECT ?, image_id, label, split FROM run_images WHERE run_id = ?').run(runId, parent.id);
    const insert = db.prepare(
      `INSERT INTO epochs (run_id, epoch, train_loss, val_loss, val_top1, val_top5, lr, images_per_second, seconds, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    metrics.forEach((m) => insert.run(runId, m.epoch, m.trainLoss, m.valLoss, m.valTop1Error, m.valTop5Error, m.lr, m.imagesPerSecond, m.seconds, now));
    logRun(db, runId, 'info', `Imported from the PyTorch bundle ${dir} (exported from run ${parent.id}): ${metrics.length} epoch(s) trained with ${trainedOn}; ${fingerprint}.`);
    // The checkpoint goes in before the transaction commits, so a failure leaves neither.
    const meta: CheckpointMeta = {
      version: 1,
      runId,
      arch,
      config,
      classes,
      snapshotHash: parent.snapshot_hash!,
      colorStats: parentCheckpoint.meta.colorStats,
      position: {
        epoch: metrics.length,
        batch: 0,
        lossSum: 0,
        images: 0,
        seconds: result.seconds,
        schedule: { lr: last.lr, bestError: best?.valTop1Error ?? null, epochsSinceBest: 0 },
        best: { top1: best?.valTop1Error ?? null, top5: best?.valTop5Error ?? null },
      },
      backend: 'torch',
      savedAt: now,
      optimizer: { step: 0, tensors: [] },
    };
    const target = checkpointDir(runDir(runId));
    fs.rmSync(runDir(runId), { recursive: true, force: true }); // a folder left by a deleted run of the same id
    fs.mkdirSync(target, { recursive: true });
    try {
      fs.writeFileSync(path.join(target, 'weights.bin'), Buffer.from(weightData));
      fs.writeFileSync(path.join(target, 'model.json'), JSON.stringify({ modelTopology: parentCheckpoint.artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }));
      fs.writeFileSync(path.join(target, 'optimizer.bin'), Buffer.alloc(0));
      fs.writeFileSync(path.join(target, 'checkpoint.json'), JSON.stringify(meta, null, 1));
    } catch (err) {
      fs.rmSync(runDir(runId), { recursive: true, force: true });
      throw err;
    }
  })();
  return { runId, bundle: { epochs: metrics.length, valTop1Error: last.valTop1Error, valTop5Error: last.valTop5Error, valLoss: last.valLoss, trainedOn } };
}
