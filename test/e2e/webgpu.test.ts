// The webgpu compute path in headless Chromium (SwiftShader: software WebGPU, no GPU here): the
// built compute page, driven over its MessagePort protocol from Node.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { TrainConfig, type EpochMetrics } from '../../src/api/runs.js';
import { activateBackend } from '../../src/backends/index.js';
import { buildModel } from '../../src/model/index.js';
import { loadCheckpoint, modelFromCheckpoint, saveCheckpoint } from '../../src/runs/checkpoint.js';
import { loadComputeCheckpoint, saveComputeCheckpoint } from '../../src/train/compute/worker/checkpoint.js';
import { createBatchFeeder } from '../../src/train/compute/worker/feeder.js';
import type { ComputeCheckpoint, ComputeInit, FromCompute } from '../../src/train/compute/protocol.js';
import { keyedWeights, trainLoop, type LoopPosition } from '../../src/train/loop.js';
import { initialSchedule } from '../../src/train/schedule.js';
import { PaperSgd } from '../../src/train/sgd.js';
import { evaluateSource } from '../../src/evaluate/evaluate.js';
import { floatSource, TEST_NORM, uint8Blobs, Uint8MemorySource } from '../helpers/webgpu-data.js';
import { builtRenderer, launchWebgpuChromium, openComputePage, serveStatic, type ComputePage } from '../helpers/webgpu-page.js';
import { tempDir } from '../helpers/temp.js';

const built = fs.existsSync(path.join(builtRenderer, 'compute', 'compute.html'));
// SwiftShader runs alexnet-small at ~13 s per batch of 8 at 16 px on a loaded 2-core machine: keep it tiny.
const SIZE = 16;
const CLASSES = 3;
const BATCH = 8;
const train = uint8Blobs(CLASSES * 8, CLASSES, SIZE, 1);
const val = uint8Blobs(CLASSES * 4, CLASSES, SIZE, 2);
const BATCHES = 3;
const config: ComputeInit['config'] = {
  arch: 'alexnet-small',
  epochs: 4,
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0.0005,
  schedule: { kind: 'step', every: 100, factor: 0.1 },
  timeLimitMinutes: null,
  dropout: 0,
  lrn: true,
  init: 'he',
  seed: 1,
};
/** The same settings as a whole run config, as checkpoints store it. */
const runConfig = TrainConfig.parse({ datasetId: 1, ...config });

let browser: Browser;
let server: { origin: string; close(): Promise<void> };
const temps: Array<() => void> = [];

beforeAll(async () => {
  if (built) {
    server = await serveStatic(builtRenderer);
    browser = await launchWebgpuChromium();
  }
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  temps.forEach((c) => c());
});

/** Opens a compute page on a backend and checks its adapter. */
async function open(backend: 'webgpu' | 'webgl'): Promise<ComputePage> {
  const page = await openComputePage(browser, server.origin);
  await page.post({ type: 'open', backend });
  const ready = await page.next('ready', 60_000);
  expect(ready.adapter.backend).toBe(backend);
  return page;
}

/** Trains on a page from `checkpoint` (or fresh) to `epochs`; saves every checkpoint it sends into `runDir`. */
async function trainOnPage(page: ComputePage, epochs: number, runDir: string, checkpoint?: ComputeCheckpoint): Promise<{ metrics: EpochMetrics[]; finished: Extract<FromCompute, { type: 'finished' }> }> {
  const metrics: EpochMetrics[] = [];
  const feed = createBatchFeeder(
    { train: new Uint8MemorySource(train, SIZE, BATCH, 7), val: new Uint8MemorySource(val, SIZE, 12, null) },
    (m) => void page.post(m),
    (err) => page.errors.push(err.message),
  );
  page.onMessage((m) => {
    feed(m);
    if (m.type === 'checkpoint') {
      if (m.metrics) {
        metrics.push(m.metrics);
      }
      void saveComputeCheckpoint(runDir, m, { runId: 1, arch: config.arch, config: runConfig, classes: ['a', 'b', 'c'], snapshotHash: 'test', colorStats: null, backend: 'webgpu' }).then(
        () => page.post({ type: 'checkpoint-saved', ok: true, error: null }),
        (err: Error) => page.post({ type: 'checkpoint-saved', ok: false, error: err.message }),
      );
    }
  });
  const init: ComputeInit = { config: { ...config, epochs }, numClasses: CLASSES, inputSize: SIZE, normalization: TEST_NORM, trainBatches: BATCHES, valBatches: 1, ...(checkpoint ? { checkpoint } : {}) };
  const finished = page.next('finished', 240_000);
  await page.post({ type: 'init', init });
  return { metrics, finished: await finished };
}

/** Trains on wasm in Node from the run's checkpoint (or fresh) to `epochs`, checkpointing into `runDir`. */
async function trainOnWasm(runDir: string, epochs: number): Promise<EpochMetrics[]> {
  await activateBackend('wasm');
  const loaded = loadCheckpoint(runDir);
  const model = loaded ? await modelFromCheckpoint(loaded) : buildModel('alexnet-small', { numClasses: CLASSES, inputSize: SIZE, init: 'he', dropout: 0 });
  const sgd = new PaperSgd(keyedWeights(model), { momentum: 0.9, weightDecay: 0.0005 });
  if (loaded) {
    sgd.setState(loaded.sgd);
  }
  const start: LoopPosition = loaded?.meta.position ?? { epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule(config), best: { top1: null, top5: null } };
  const metrics: EpochMetrics[] = [];
  await trainLoop({
    model,
    sgd,
    config: { ...config, epochs },
    numClasses: CLASSES,
    train: floatSource(train, SIZE, BATCH, 7),
    val: floatSource(val, SIZE, 12, null),
    start,
    hooks: {
      progress: () => undefined,
      epochEnd: async (m, pos) => {
        metrics.push(m);
        await saveCheckpoint(runDir, model, await sgd.getState(), { runId: 1, arch: config.arch, config: runConfig, classes: ['a', 'b', 'c'], snapshotHash: 'test', colorStats: null, backend: 'wasm', position: pos });
      },
      control: async () => 'continue',
      stopped: async () => undefined,
    },
  });
  model.dispose();
  sgd.dispose();
  return metrics;
}

/** Validation loss and top-1 error of a run's checkpoint, evaluated in Node on wasm. */
async function wasmEvaluation(runDir: string): Promise<{ loss: number; top1Error: number }> {
  await activateBackend('wasm');
  const model = await modelFromCheckpoint(loadCheckpoint(runDir)!);
  const result = await evaluateSource(model, floatSource(val, SIZE, 12, null), CLASSES);
  model.dispose();
  return result;
}

describe.skipIf(!built)(`webgpu compute page in headless Chromium (SwiftShader, software)${built ? '' : ' (skipped: build/renderer/compute missing; run npm run build:renderer)'}`, () => {
  it('finds a WebGPU adapter and names it', async () => {
    const page = await openComputePage(browser, server.origin);
    await page.post({ type: 'open', backend: 'webgpu' });
    const ready = await page.next('ready');
    expect(ready.adapter.architecture).toMatch(/swiftshader/i);
    expect(ready.adapter.software).toBe(true);
    await page.page.close();
  });

  for (const backend of ['webgpu', 'webgl'] as const) {
    it(`every AlexNet op's forward and gradient on ${backend} matches cpu`, async () => {
      const page = await open(backend);
      await page.post({ type: 'self-check', tolerance: 1e-3 });
      const { results } = await page.next('self-check', 180_000);
      const failed = results.filter((r) => !r.ok);
      expect(failed, JSON.stringify(failed)).toEqual([]);
      expect(results.map((r) => r.op)).toEqual(expect.arrayContaining([expect.stringMatching(/stride 4/), expect.stringMatching(/groups 2/), expect.stringMatching(/LRN/), expect.stringMatching(/maxPool 3×3 stride 2/), expect.stringMatching(/dropout/)]));
      await page.page.close();
    });
  }

  it('trains alexnet-small above chance on webgpu, and its checkpoint resumes on wasm', async () => {
    const t = tempDir();
    temps.push(t.cleanup);
    const page = await open('webgpu');
    const { metrics, finished } = await trainOnPage(page, 3, t.dir);
    expect(finished.outcome).toBe('completed');
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(metrics[2]!.trainLoss).toBeLessThan(metrics[0]!.trainLoss);
    expect(metrics[2]!.valTop1Error!).toBeLessThan(0.5); // chance is 2/3
    await page.page.close();

    // The same weights on wasm give the same validation metrics the page measured on webgpu.
    const onWasm = await wasmEvaluation(t.dir);
    expect(Math.abs(onWasm.loss - metrics[2]!.valLoss!)).toBeLessThan(1e-3 + 1e-2 * metrics[2]!.valLoss!);
    expect(onWasm.top1Error).toBeCloseTo(metrics[2]!.valTop1Error!, 5);
    const more = await trainOnWasm(t.dir, 4);
    expect(more.map((m) => m.epoch)).toEqual([4]);
    expect(more[0]!.trainLoss).toBeLessThan(metrics[0]!.trainLoss);
    expect(loadCheckpoint(t.dir)!.meta.optimizer.step).toBe(4 * BATCHES);
  });

  it('a checkpoint written on wasm resumes on webgpu', async () => {
    const t = tempDir();
    temps.push(t.cleanup);
    const first = await trainOnWasm(t.dir, 2);
    const page = await open('webgpu');
    const { checkpoint } = loadComputeCheckpoint(t.dir)!;
    const { metrics, finished } = await trainOnPage(page, 3, t.dir, checkpoint);
    expect(finished.outcome).toBe('completed');
    expect(metrics.map((m) => m.epoch)).toEqual([3]);
    expect(metrics[0]!.trainLoss).toBeLessThan(first[0]!.trainLoss);
    const saved = loadCheckpoint(t.dir)!;
    expect(saved.meta.position.epoch).toBe(3);
    expect(saved.meta.optimizer.step).toBe(3 * BATCHES);
    expect(saved.meta.backend).toBe('webgpu');
    await page.page.close();
  });
});
