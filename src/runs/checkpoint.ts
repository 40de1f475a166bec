import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../api/runs.js';
import type { LoopPosition, SgdState } from './training-state.js';
import { validRunConfig } from './run-config.js';
import { pidAlive } from './run-owner.js';

/** Everything besides weights that a checkpoint carries; enough to resume on any backend. */
export interface CheckpointMeta {
  version: 1;
  runId: number;
  arch: string;
  config: TrainConfig;
  classes: string[];
  snapshotHash: string;
  colorStats: unknown;
  position: LoopPosition;
  backend: string;
  savedAt: number;
  /** Momentum buffers: key, shape and offset (in floats) into optimizer.bin. */
  optimizer: { step: number; tensors: Array<{ key: string; shape: number[]; offset: number }> };
}

/** A checkpoint as loaded: the model's topology + weights, the optimizer state and the meta. */
export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  artifacts: tf.io.ModelArtifacts;
  sgd: SgdState;
}

/** Reads a checkpoint's meta file, its config validated by the run schema (an older checkpoint's gains the newer settings' defaults). */
export function readCheckpointMeta(file: string): CheckpointMeta {
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as CheckpointMeta;
  return { ...meta, config: validRunConfig(meta.config, `The checkpoint config of run ${meta.runId}`) };
}

/** The folder of a run's latest checkpoint. */
export function checkpointDir(runDir: string): string {
  return path.join(runDir, 'checkpoint');
}

/**
 * Writes model (TF.js layers format), optimizer state and meta into `runDir/checkpoint`, atomically:
 * everything goes to a temporary folder first, which then replaces the old checkpoint by rename,
 * so a run killed at any moment leaves either the old checkpoint or the new one, whole.
 */
export async function saveCheckpoint(runDir: string, model: tf.LayersModel, sgd: SgdState, meta: Omit<CheckpointMeta, 'optimizer' | 'version' | 'savedAt'>): Promise<void> {
  const final = checkpointDir(runDir);
  const tmp = `${final}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const { weightData, ...rest } = artifacts;
        const buffers = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
        fs.writeFileSync(path.join(tmp, 'weights.bin'), Buffer.concat(buffers.map((b) => Buffer.from(b))));
        fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify({ ...rest, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const tensors: CheckpointMeta['optimizer']['tensors'] = [];
    const parts: Buffer[] = [];
    let offset = 0;
    for (const [key, t] of Object.entries(sgd.momentum)) {
      tensors.push({ key, shape: t.shape, offset });
      parts.push(Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength));
      offset += t.values.length;
    }
    fs.writeFileSync(path.join(tmp, 'optimizer.bin'), Buffer.concat(parts));
    const full: CheckpointMeta = { ...meta, version: 1, savedAt: Date.now(), optimizer: { step: sgd.step, tensors } };
    fs.writeFileSync(path.join(tmp, 'checkpoint.json'), JSON.stringify(full, null, 1));
    const old = `${final}.old-${process.pid}`;
    if (fs.existsSync(final)) {
      fs.renameSync(final, old);
    }
    fs.renameSync(tmp, final);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Removes the `checkpoint.tmp-<pid>-<time>` folders that a writer killed mid-save left behind, and
 * `checkpoint.old-*` once a whole checkpoint stands beside it (without one, loadCheckpoint restores it).
 * Call only where no other process writes this run's checkpoint (it is not live, or this process owns it);
 * with `onlyDeadWriters`, a folder whose writer's PID is alive on this host is also left alone.
 * Returns the names removed.
 */
export function removeStaleCheckpointFolders(runDir: string, onlyDeadWriters = false): string[] {
  if (!fs.existsSync(runDir)) {
    return [];
  }
  const whole = fs.existsSync(path.join(checkpointDir(runDir), 'checkpoint.json'));
  const removed: string[] = [];
  for (const name of fs.readdirSync(runDir)) {
    const tmp = /^checkpoint\.tmp-(\d+)-\d+$/.exec(name);
    const stale = tmp ? !(onlyDeadWriters && pidAlive(Number(tmp[1]))) : whole && name.startsWith('checkpoint.old-');
    if (stale) {
      fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** removeStaleCheckpointFolders for the run this process now owns; a failure is logged, never fatal (leftovers are harmless). */
export function removeLeftovers(runDir: string, log: (level: 'warn', message: string) => void): void {
  try {
    removeStaleCheckpointFolders(runDir);
  } catch (err) {
    log('warn', `Could not remove a checkpoint folder left by an earlier, killed session: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reads a run's checkpoint, or null when it has none yet. Finishes an interrupted swap first. */
export function loadCheckpoint(runDir: string): LoadedCheckpoint | null {
  const dir = checkpointDir(runDir);
  if (!fs.existsSync(path.join(dir, 'checkpoint.json'))) {
    // A crash between the two renames leaves only `checkpoint.old-*`: that one is whole.
    const old = fs.existsSync(runDir) ? fs.readdirSync(runDir).find((n) => n.startsWith('checkpoint.old-')) : undefined;
    if (!old) {
      return null;
    }
    fs.renameSync(path.join(runDir, old), dir);
  }
  const meta = readCheckpointMeta(path.join(dir, 'checkpoint.json'));
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  };
  const opt = fs.readFileSync(path.join(dir, 'optimizer.bin'));
  const floats = new Float32Array(opt.buffer.slice(opt.byteOffset, opt.byteOffset + opt.byteLength));
  const momentum: SgdState['momentum'] = {};
  for (const t of meta.optimizer.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    momentum[t.key] = { shape: t.shape, values: floats.slice(t.offset, t.offset + size) };
  }
  return { meta, artifacts, sgd: { step: meta.optimizer.step, momentum } };
}

/** Rebuilds the saved network (custom layers are registered by src/model). */
export function modelFromCheckpoint(checkpoint: LoadedCheckpoint): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(checkpoint.artifacts));
}
