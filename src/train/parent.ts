// The parent of a fine-tuned run: another run's latest checkpoint or a model in the library's models store.
// describeParent reads only what the run's config needs (main process, at start); loadParent reads the weights
// (run worker). Either refuses a parent that cannot be used, with the reason.
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import '../model/index.js'; // registers LocalResponseNormalization and GroupedConv2D for deserialisation
import type { InitFrom, RunParent, TrainConfigInput } from '../api/runs.js';
import { ApiError } from '../api/errors.js';
import { inspectModelFolder, readModelArtifacts } from '../classify/model-folder-check.js';
import { modelDir } from '../classify/models-store.js';
import type { ColorStats } from '../images/color-stats.js';
import { ARCHS, type ArchName, type InitScheme } from '../model/index.js';
import { checkpointDir, loadCheckpoint, readCheckpointMeta } from '../runs/checkpoint.js';
import { inputSizeOf, normalizationFor, type InputNormalization } from '../runs/config.js';
import { runDirOf } from '../runs/run-folder.js';

/** What a run started from a parent inherits: its network's shape and its input rule. */
export interface ParentInfo extends RunParent {
  arch: ArchName;
  inputSize: number;
  lrn: boolean;
  init: InitScheme;
  norm: InputNormalization;
  classes: string[];
}

/** The name a parent is shown with: "alexnet-small on shapes" for a run, the model's own name for a model. */
export function parentName(db: Database, from: InitFrom): string | null {
  if (from.kind === 'run') {
    const row = db.prepare('SELECT arch, dataset_name FROM runs WHERE id = ?').get(from.id) as { arch: string; dataset_name: string | null } | undefined;
    return row ? `${row.arch} on ${row.dataset_name ?? 'a deleted dataset'}` : null;
  }
  const row = db.prepare('SELECT name FROM models WHERE id = ?').get(from.id) as { name: string } | undefined;
  return row?.name ?? null;
}

function hasLrn(topology: unknown): boolean {
  return /"name":\s*"lrn1"/.test(JSON.stringify(topology ?? {}));
}

function archOf(name: string | null, what: string): ArchName {
  if (!name || !(name in ARCHS)) {
    throw new ApiError('bad_request', `${what} is a ${name ?? 'network of unknown architecture'}; fine-tuning starts from ${Object.keys(ARCHS).join(', ')} only.`);
  }
  return name as ArchName;
}

/** Reads a parent's architecture, input size and preprocessing (not its weights); not_found or bad_request when it cannot be used. */
export function describeParent(library: { dir: string; db: Database }, from: InitFrom): ParentInfo {
  const name = parentName(library.db, from);
  if (name === null) {
    throw new ApiError('not_found', from.kind === 'run' ? `Run ${from.id} does not exist (see runs.list).` : `Model ${from.id} does not exist in this library (see models.list).`);
  }
  if (from.kind === 'run') {
    const file = path.join(checkpointDir(runDirOf(library.dir, from.id)), 'checkpoint.json');
    if (!fs.existsSync(file)) {
      throw new ApiError('conflict', `Run ${from.id} has no checkpoint yet (it has not finished an epoch): nothing to start from.`);
    }
    const meta = readCheckpointMeta(file);
    const config = meta.config;
    const arch = archOf(meta.arch, `Run ${from.id}`);
    const topology = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'model.json'), 'utf8')) as { modelTopology?: unknown };
    return {
      ...from,
      name,
      arch,
      inputSize: inputSizeOf(config),
      lrn: hasLrn(topology.modelTopology),
      init: config.init ?? ARCHS[arch].defaultInit,
      norm: normalizationFor(config, meta.colorStats as ColorStats),
      classes: meta.classes,
    };
  }
  const dir = modelDir(library, from.id);
  let folder: ReturnType<typeof inspectModelFolder>;
  try {
    folder = inspectModelFolder(dir);
  } catch (err) {
    throw new ApiError('conflict', `Model ${from.id}'s files cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const arch = archOf(folder.spec.arch, `Model ${from.id} (${name})`);
  const topology = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology?: unknown };
  return {
    ...from,
    name,
    arch,
    inputSize: folder.spec.inputSize,
    lrn: hasLrn(topology.modelTopology),
    // Preprocessing decides it: a model normalised by the std was trained the He way, mean-only the paper's.
    init: folder.spec.norm.std ? 'he' : 'paper',
    norm: folder.spec.norm,
    classes: folder.spec.classes,
  };
}

/**
 * A run config started from `parent`: its architecture, and unless the input sets them, its input size, LRN
 * and init (which decides the normalisation), so the parent's weights see inputs as they were trained on.
 * (Fine-tuning's fewer epochs are the clients' default: the contract fills `epochs` before this sees it.)
 */
export function configFromParent(input: TrainConfigInput, parent: ParentInfo): TrainConfigInput {
  return {
    ...input,
    arch: parent.arch,
    imageSize: input.imageSize ?? parent.inputSize,
    lrn: input.lrn ?? parent.lrn,
    init: input.init ?? parent.init,
  };
}

/** The parent's network with its weights and its input rule (in the run worker). */
export async function loadParent(libraryDir: string, from: InitFrom): Promise<{ model: tf.LayersModel; norm: InputNormalization }> {
  if (from.kind === 'run') {
    const checkpoint = loadCheckpoint(runDirOf(libraryDir, from.id));
    if (!checkpoint) {
      throw new Error(`Run ${from.id}, the parent of this run, has no checkpoint any more.`);
    }
    const config = checkpoint.meta.config;
    return { model: await tf.loadLayersModel(tf.io.fromMemory(checkpoint.artifacts)), norm: normalizationFor(config, checkpoint.meta.colorStats as ColorStats) };
  }
  const dir = modelDir({ dir: libraryDir }, from.id);
  const folder = inspectModelFolder(dir);
  return { model: await tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(dir, folder))), norm: folder.spec.norm };
}

/** Colour statistics whose mean (and std) are the parent's: the run normalises as the parent did; the PCA lighting stays the dataset's. */
export function statsWithParentNorm(stats: ColorStats, norm: InputNormalization): ColorStats {
  return { ...stats, mean: [...norm.mean], std: norm.std ? [...norm.std] : stats.std };
}
