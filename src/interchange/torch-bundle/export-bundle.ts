// `convnet export --format torch`: a run as a self-contained PyTorch DDP bundle (see bundle-docs.ts for its files).
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ApiError } from '../../api/errors.js';
import { prepareExportDir } from '../../classify/export-folder.js';
import type { ColorStats } from '../../images/color-stats.js';
import { decodeSquare } from '../../images/decode.js';
import { packSizeFor } from '../../images/pack-images.js';
import { siblingModule, spawnWorker } from '../../images/spawn-worker.js';
import type { Library } from '../../library/open.js';
import { ARCHS, describeModel, type ArchName } from '../../model/index.js';
import { loadCheckpoint } from '../../runs/checkpoint.js';
import { inputSizeOf, normalizationFor } from '../../runs/config.js';
import { storedSnapshot, type SnapshotItem } from '../../runs/dataset-snapshot.js';
import { runRow } from '../../runs/run-store.js';
import { pkg } from '../../version.js';
import { bundleReadme, LAUNCH_FILE, LAUNCH_SH } from './bundle-docs.js';
import { MODEL_PY, MODEL_PY_FILE } from './model-py.js';
import { findTorchPython, runBundleCheck } from './python.js';
import { encodeSafetensors, f32, type NamedTensor } from './safetensors.js';
import { writeTarShards } from './tar-shards.js';
import { TRAIN_PY, TRAIN_PY_FILE } from './train-py.js';
import type { ReferenceReply, ReferenceTask } from './reference-worker.js';
import { toTorchState } from './weights.js';
import { runDirOf } from '../../runs/run-folder.js';

/** The format tag of a bundle's config.json. */
export const BUNDLE_FORMAT = 'convnet-torch-bundle';
/** Reference images stored for `train.py --check`. */
const REFERENCE_IMAGES = 8;
/** Images per tar shard with --with-images. */
const IMAGES_PER_SHARD = 1000;

/** What an export reports. */
export interface TorchExportResult {
  dir: string;
  files: string[];
  images: number;
  shards: number;
  referenceImages: number;
  params: number;
  /** `train.py --check` run at export time with a Python that has torch; null (with the reason in note) without one. */
  check: { ok: boolean; line: string; python: string; torch: string } | null;
  note: string | null;
}

/** The folder the manifest's paths are relative to: the deepest folder that holds every image. */
export function commonRoot(paths: string[]): string {
  if (paths.length === 0) {
    return '';
  }
  let parts = path.dirname(paths[0]!).split(path.sep);
  for (const p of paths) {
    const other = path.dirname(p).split(path.sep);
    let i = 0;
    while (i < parts.length && i < other.length && parts[i] === other[i]) {
      i++;
    }
    parts = parts.slice(0, i);
  }
  return parts.join(path.sep) || path.sep;
}

/** A few images across classes for the logits check: validation first, then test, then training. */
function referenceSample(items: SnapshotItem[], n: number): SnapshotItem[] {
  const pool = ['val', 'test', 'train'].flatMap((split) => items.filter((it) => it.split === split));
  const byLabel = new Map<number, SnapshotItem[]>();
  pool.forEach((it) => byLabel.set(it.label, [...(byLabel.get(it.label) ?? []), it]));
  const out: SnapshotItem[] = [];
  for (let round = 0; out.length < n && round < pool.length; round++) {
    for (const list of byLabel.values()) {
      if (list[round] && out.length < n) {
        out.push(list[round]!);
      }
    }
  }
  return out;
}

/** Logits of the run's checkpoint on packed images, computed in a worker thread. */
function referenceLogits(task: ReferenceTask): Promise<ReferenceReply> {
  return new Promise((resolve, reject) => {
    const worker: Worker = spawnWorker(siblingModule(import.meta.url, 'reference-worker'), { workerData: task });
    worker.once('message', (reply: ReferenceReply) => {
      resolve(reply);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the reference worker exited with code ${code}`)));
  });
}

/**
 * Writes run `runId` as a PyTorch DDP bundle into `outDir` (created, or empty): model.py, weights.safetensors,
 * config.json, manifest.jsonl, reference.safetensors, train.py, launch.sh, README.md, and with `withImages` the
 * images as tar shards. Then runs `train.py --check` when a Python with torch is found.
 */
export async function exportTorchBundle(library: Library, runId: number, outDir: string, options: { withImages?: boolean; check?: boolean } = {}): Promise<TorchExportResult> {
  const row = runRow(library.db, runId);
  const runDir = runDirOf(library.dir, runId);
  const checkpoint = loadCheckpoint(runDir);
  if (!checkpoint) {
    throw new ApiError('conflict', `Run ${runId} has no checkpoint yet: it has not finished an epoch.`);
  }
  const config = checkpoint.meta.config;
  const arch = checkpoint.meta.arch as ArchName;
  const classes = checkpoint.meta.classes;
  const stats = checkpoint.meta.colorStats as ColorStats;
  const inputSize = inputSizeOf(config);
  const packSize = packSizeFor(inputSize);
  const init = config.init ?? ARCHS[arch].defaultInit;
  const rows = describeModel(arch, { numClasses: classes.length, inputSize, lrn: config.lrn ?? ARCHS[arch].defaultLrn, dropout: config.dropout, init });
  const params = rows.reduce((a, r) => a + r.params, 0);
  const state = toTorchState(rows, checkpoint.artifacts.weightSpecs ?? [], checkpoint.artifacts.weightData as ArrayBuffer);
  const stateParams = Object.values(state).reduce((a, t) => a + t.data.byteLength / 4, 0);
  if (stateParams !== params) {
    throw new ApiError('conflict', `Run ${runId}'s checkpoint holds ${stateParams} weights, its ${arch} topology ${params}.`);
  }
  const snapshot = storedSnapshot(library.db, runId, classes);
  if (snapshot.items.length === 0) {
    throw new ApiError('conflict', `Run ${runId} has no stored snapshot of its images.`);
  }
  const dir = path.resolve(outDir);
  const existed = fs.existsSync(dir);
  prepareExportDir(dir);
  try {
    const files: string[] = [];
    const write = (name: string, data: string | Buffer, mode?: number): void => {
      fs.writeFileSync(path.join(dir, name), data, mode === undefined ? {} : { mode });
      files.push(name);
    };
    const root = commonRoot(snapshot.items.map((it) => it.path));
    const rel = (p: string): string => path.relative(root, p).split(path.sep).join('/');
    const norm = normalizationFor(config, stats);
    const app = `${pkg.productName} ${pkg.version}`;

    // Reference images (as packed) and the app's logits on them.
    const refs: SnapshotItem[] = [];
    const records: Buffer[] = [];
    for (const it of referenceSample(snapshot.items, REFERENCE_IMAGES * 2)) {
      if (refs.length >= REFERENCE_IMAGES) {
        break;
      }
      try {
        records.push(await decodeSquare(it.path, packSize));
        refs.push(it);
      } catch {
        // an image gone or unreadable since training: another one serves
      }
    }
    const images = new Uint8Array(Buffer.concat(records));
    const reply = refs.length ? await referenceLogits({ runDir, images, count: refs.length, packSize, inputSize, norm }) : { ok: true as const, logits: new Float32Array(0), backend: 'none' };
    if (!reply.ok) {
      throw new Error(`Computing the reference logits failed: ${reply.message}`);
    }
    const reference: Record<string, NamedTensor> = {
      images: { dtype: 'U8', shape: [refs.length, packSize, packSize, 3], data: images },
      logits: f32([refs.length, classes.length], reply.logits),
      labels: { dtype: 'I64', shape: [refs.length], data: new Uint8Array(BigInt64Array.from(refs.map((r) => BigInt(r.label))).buffer) },
    };
    write('weights.safetensors', encodeSafetensors(state, { format: 'pt', source: `${app}, run ${runId}` }));
    write('reference.safetensors', encodeSafetensors(reference, { backend: reply.backend, paths: JSON.stringify(refs.map((r) => rel(r.path))) }));
    write('manifest.jsonl', snapshot.items.map((it) => JSON.stringify({ path: rel(it.path), sha256: it.sha256, label: it.label, class: classes[it.label], split: it.split })).join('\n') + '\n');
    const count = (split: SnapshotItem['split']): number => snapshot.items.filter((it) => it.split === split).length;
    write(
      'config.json',
      JSON.stringify(
        {
          format: BUNDLE_FORMAT,
          version: 1,
          app,
          exportedAt: new Date().toISOString(),
          run: { id: runId, datasetId: row.dataset_id, datasetName: row.dataset_name, snapshotHash: snapshot.hash, epochsDone: checkpoint.meta.position.epoch },
          arch,
          init,
          inputSize,
          packSize,
          params,
          classes,
          normalization: { mean: norm.mean, std: norm.std ?? null },
          colorStats: { mean: stats.mean, std: stats.std, eigvals: stats.eigvals, eigvecs: stats.eigvecs },
          dataRoot: root,
          config,
          layers: rows.map((r) => r.spec),
        },
        null,
        1,
      ) + '\n',
    );
    write(MODEL_PY_FILE, MODEL_PY);
    write(TRAIN_PY_FILE, TRAIN_PY);
    write(LAUNCH_FILE, LAUNCH_SH, 0o755);
    let shards = 0;
    if (options.withImages) {
      const names = await writeTarShards(path.join(dir, 'images'), snapshot.items.map((it) => ({ source: it.path, name: rel(it.path) })), IMAGES_PER_SHARD);
      files.push(...names.map((n) => `images/${n}`));
      shards = names.length;
    }
    write(
      'README.md',
      bundleReadme({
        runId,
        arch,
        datasetName: row.dataset_name,
        classes,
        images: { train: count('train'), val: count('val'), test: count('test') },
        inputSize,
        packSize,
        params,
        epochs: config.epochs,
        batchSize: config.batchSize,
        dataRoot: root,
        withImages: !!options.withImages,
        app,
      }),
    );
    let check: TorchExportResult['check'] = null;
    let note: string | null = null;
    if (options.check !== false) {
      const py = await findTorchPython();
      if (py.python) {
        check = { ...(await runBundleCheck(py.python, dir)), python: py.python, torch: py.torch! };
      } else {
        note = `train.py --check not run: no Python here imports torch (${py.tried.join('; ')}).`;
      }
    }
    return { dir, files, images: snapshot.items.length, shards, referenceImages: refs.length, params, check, note };
  } catch (err) {
    if (!existed) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    throw err;
  }
}
