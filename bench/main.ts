// `npm run bench` (bench/run.mjs → here): every figure of bench/README.md against its peer, measured in
// the same run, printed as a table and written to bench/results/<timestamp>.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { probeBackend } from '../src/backends/index.js';
import { measureLibraryScale } from './library-scale.js';
import { appRoot } from '../src/version.js';
import { indexingFigure, loaderFigure, packFixture, writeImageFolder } from './data.js';
import { findTorchPython } from './protocol.js';
import { formatTable, skippedRow, writeResult, type BenchResult, type Row } from './results.js';
import { compareSteps, rssRow, stepBase, stepRow, torchName, type PeerEnv, type StepCase } from './steps.js';
import { fastHeadFigure } from './fast-head.js';
import { fineTuneFigure } from './fine-tune.js';
import { suspectsFigure } from './suspects.js';
import { efficiencyRows } from './efficiency.js';
import { uiFigure } from './ui.js';
import { webgpuFigure } from './webgpu.js';

/** Which plan: quick (default, < 10 min on 2 cores), full, or gpu (tfjs-node-gpu against PyTorch CUDA). */
export type BenchMode = 'quick' | 'full' | 'gpu';

/** Sizes of a bench run. */
export interface BenchPlan {
  mode: BenchMode;
  train: StepCase[];
  infer: StepCase[];
  /** Images per class × classes of the generated folder (indexing, pack, UI import). */
  folder: { classes: number; perClass: number; size: number };
  loader: { batches: number; reps: number };
  indexingReps: number;
  ui: { idleSeconds: number; pingSeconds: number; everyMs: number };
}

/** Thread counts figures 1 and 2 compare at: every core, 2 and 1 (most first), or the `--threads` list. */
export function threadCounts(cores: number, list?: readonly number[]): number[] {
  const counts = list?.length ? list : [cores, 2, 1];
  return [...new Set(counts.filter((t) => Number.isInteger(t) && t >= 1 && t <= Math.max(cores, ...(list ?? []))))].sort((a, b) => b - a);
}

/**
 * The plan for a mode. wasm rows run at each of `counts` threads against PyTorch at the same count,
 * plus ours at every core against PyTorch at its default; 1 thread beside cpu, `cores` beside tensorflow.
 */
export function benchPlan(mode: BenchMode, cores: number, counts: readonly number[] = threadCounts(cores)): BenchPlan {
  if (mode === 'gpu') {
    return gpuPlan(cores);
  }
  const full = mode === 'full';
  const r = full ? 5 : 3;
  const train = (inputSize: number, batch: number, backend: StepCase['backend'], extra: Partial<StepCase> = {}): StepCase => ({
    kind: 'train', arch: 'alexnet-small', inputSize, batch, backend, reps: r, steps: 2, warmup: 1, peerThreads: backend === 'tensorflow' ? cores : 1, ...extra,
  });
  const infer = (arch: StepCase['arch'], inputSize: number, batch: number, steps: number, extra: Partial<StepCase> = {}): StepCase => ({
    kind: 'infer', arch, inputSize, batch, backend: 'wasm', reps: r, steps, warmup: Math.min(3, steps), peerThreads: 1, ...extra,
  });
  // One case per thread count, then every core against PyTorch's default thread count.
  const atCounts = (make: (extra: Partial<StepCase>) => StepCase): StepCase[] => [
    ...counts.map((t, i) => make({ peerThreads: t, ...(i === 0 ? {} : { rss: false }) })),
    make({ peerThreads: 0, oursThreads: Math.max(...counts), rss: false }),
  ];
  return {
    mode,
    train: [
      ...atCounts((x) => train(32, 64, 'wasm', { rss: true, ...x })),
      ...atCounts((x) => train(64, 64, 'wasm', { steps: 1, ...x })),
      // The plain-JS backend (with the project's filter gradient; tfjs' own took tens of seconds per image)
      // runs a few images/s: a smaller batch keeps the row bounded.
      full
        ? train(32, 64, 'cpu', { reps: 1, steps: 1, note: 'cpu backend, one step after a warm-up' })
        : train(32, 16, 'cpu', { reps: 1, steps: 1, note: 'cpu backend at batch 16, one step after a warm-up (a batch-64 step takes about 20 s)' }),
      train(32, 64, 'tensorflow'),
      ...(full ? atCounts((x) => ({ ...train(224, 64, 'wasm', x), arch: 'alexnet' as const, steps: 1, reps: 3 })) : []),
    ],
    infer: [
      ...atCounts((x) => infer('alexnet-small', 32, 1, 30, x)),
      ...atCounts((x) => infer('alexnet-small', 32, 64, 3, x)),
      ...(full ? [...atCounts((x) => infer('alexnet', 224, 1, 5, x)), ...atCounts((x) => infer('alexnet', 224, 64, 1, x))] : []),
    ],
    folder: full ? { classes: 10, perClass: 100, size: 256 } : { classes: 10, perClass: 30, size: 256 },
    loader: full ? { batches: 40, reps: 5 } : { batches: 20, reps: 3 },
    indexingReps: full ? 3 : 1,
    ui: full ? { idleSeconds: 10, pingSeconds: 60, everyMs: 50 } : { idleSeconds: 5, pingSeconds: 20, everyMs: 50 },
  };
}

/** The GPU variant: tfjs-node-gpu (`tensorflow` backend) against PyTorch CUDA on AlexNet at 224 px. */
function gpuPlan(cores: number): BenchPlan {
  const gpu = (kind: StepCase['kind'], arch: StepCase['arch'], inputSize: number, batch: number, extra: Partial<StepCase> = {}): StepCase => ({
    kind, arch, inputSize, batch, backend: 'tensorflow', reps: 5, steps: 5, warmup: 3, peerThreads: cores, peerDevice: 'cuda', ...extra,
  });
  return {
    mode: 'gpu',
    train: [gpu('train', 'alexnet', 224, 128, { rss: true }), gpu('train', 'alexnet', 224, 64), gpu('train', 'alexnet-2012', 224, 128), gpu('train', 'alexnet-small', 32, 64)],
    infer: [gpu('infer', 'alexnet', 224, 1, { steps: 20 }), gpu('infer', 'alexnet', 224, 64)],
    folder: { classes: 10, perClass: 100, size: 256 },
    loader: { batches: 40, reps: 3 },
    indexingReps: 1,
    ui: { idleSeconds: 10, pingSeconds: 30, everyMs: 50 },
  };
}

/** Figures 1, 2 and 5: every step case; returns the rows and, per input size, the first measured trainer's images/s. */
async function stepFigures(plan: BenchPlan, peer: PeerEnv, log: (s: string) => void): Promise<{ rows: Row[]; trainerRate: Map<number, { rate: number; what: string }> }> {
  const rows: Row[] = [];
  const measured: Array<{ c: StepCase; row: Row }> = [];
  const trainerRate = new Map<number, { rate: number; what: string }>();
  for (const c of [...plan.train, ...plan.infer]) {
    log(`  ${c.kind} ${c.arch} ${c.inputSize}px b${c.batch} on ${c.backend} vs ${torchName(peer, c.peerThreads, c.peerDevice)}`);
    if (c.backend === 'tensorflow') {
      const probe = await probeBackend('tensorflow');
      if (!probe.available) {
        rows.push(skippedRow(stepBase(c, peer), probe.reason));
        continue;
      }
    }
    const outcome = await compareSteps(c, peer, log);
    const row = stepRow(c, outcome, peer);
    rows.push(row);
    measured.push({ c, row });
    if (c.kind === 'train' && row.ours !== null && !trainerRate.has(c.inputSize)) {
      trainerRate.set(c.inputSize, { rate: row.ours, what: `${c.backend}, ${c.arch} ${c.inputSize}px b${c.batch}, figure 1` });
    }
    if (c.rss) {
      rows.push(rssRow(c, outcome, peer));
    }
  }
  rows.push(...efficiencyRows(measured));
  return { rows, trainerRate };
}

/** Runs the suite; returns the result written (and printed). */
export async function runBench(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({ args: argv, options: { full: { type: 'boolean', default: false }, gpu: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' } } });
  const wasm = await probeBackend('wasm');
  const counts = threadCounts(os.cpus().length, values.threads?.split(',').map(Number));
  const plan = benchPlan(values.gpu ? 'gpu' : values.full ? 'full' : 'quick', os.cpus().length, counts);
  const only = values.only ? new Set(values.only.split(',').map(Number)) : null;
  const want = (figure: number): boolean => !only || only.has(figure);
  const t0 = performance.now();
  const log = (s: string): void => void process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
  const startedAt = new Date();
  const loadStart = os.loadavg();

  const found = findTorchPython();
  const peer: PeerEnv = { python: found.python, torch: found.torch, reason: found.python ? null : `no Python that imports torch (tried ${found.tried.join('; ')}); set CONVNET_BENCH_PYTHON` };
  log(`bench ${plan.mode}: peer ${found.python ? `${found.python} (torch ${found.torch})` : 'none — ' + peer.reason}; load average ${loadStart.map((l) => l.toFixed(1)).join(' ')}`);

  const rows: Row[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convnet-bench-'));
  try {
    let trainerRate = new Map<number, { rate: number; what: string }>();
    if (want(1) || want(2) || want(5)) {
      log('figures 1, 2, 5: training and inference images/s, peak RSS');
      const steps = await stepFigures(plan, peer, log);
      rows.push(...steps.rows.filter((r) => want(r.figure)));
      trainerRate = steps.trainerRate;
    }
    if (want(3) || want(4) || want(6)) {
      const { classes, perClass, size } = plan.folder;
      log(`generating ${classes * perClass} images (${size} px, JPEG + PNG) in ${tmp}`);
      const fixture = await writeImageFolder(path.join(tmp, 'images'), classes, perClass, size);
      if (want(3)) {
        for (const inputSize of trainerRate.size ? [...trainerRate.keys()] : [32, 64]) {
          log(`figure 3: data loader at ${inputSize} px`);
          const packFile = await packFixture(fixture, inputSize, path.join(tmp, `bench-${inputSize}.pack`));
          const trainer = trainerRate.get(inputSize);
          rows.push(await loaderFigure({ packFile, inputSize, batch: 64, ...plan.loader, trainerImagesPerSec: trainer?.rate ?? null, trainerWhat: trainer?.what ?? 'not measured in this run' }));
        }
      }
      if (want(4)) {
        log('figure 4: indexing');
        rows.push(await indexingFigure({ dir: fixture.root, reps: plan.indexingReps }));
      }
      if (want(6)) {
        log('figure 6: UI responsiveness while a run trains');
        rows.push(...(await uiFigure({ libraryDir: path.join(tmp, 'library'), imageDir: fixture.root, ...plan.ui, log })));
      }
    }
    if (want(7)) {
      log('figure 7: library at ImageNet scale (1.2 M image rows)');
      rows.push(...(await libraryScaleRows(path.join(tmp, 'scale-library'))));
    }
    if (want(8) && plan.mode !== 'gpu') {
      log("figure 8: training on webgpu in Chromium's compute page (the desktop app's GPU path)");
      rows.push(...(await webgpuFigure({ full: plan.mode === 'full', peer, log })));
    }
    if (want(9) && plan.mode !== 'gpu') {
      log('figure 9: the fast head (fc7 features cached once, the last layer trained on them)');
      rows.push(...(await fastHeadFigure({ images: 1000, log })));
    }
    if (want(10) && plan.mode !== 'gpu') {
      log('figure 10: fine-tuned against from scratch on the same time budget');
      rows.push(...(await fineTuneFigure({ dir: path.join(tmp, 'fine-tune'), parentEpochs: plan.mode === 'full' ? 30 : 15, minutes: plan.mode === 'full' ? 1 : 0.5, log })));
    }
    if (want(11) && plan.mode !== 'gpu') {
      log('figure 11: suspected labels on data with a known share flipped');
      rows.push(...(await suspectsFigure({ dir: path.join(tmp, 'suspects'), perClass: 60, flipPerClass: 6, epochs: 20, seed: 3, log })));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const seconds = (performance.now() - t0) / 1000;
  const result: BenchResult = {
    suite: 'convnet-studio-bench',
    version: 1,
    mode: plan.mode,
    startedAt: startedAt.toISOString(),
    seconds,
    machine: { platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', memoryBytes: os.totalmem(), loadAverageStart: loadStart, loadAverageEnd: os.loadavg(), node: process.versions.node },
    peer,
    threads: { wasm: wasm.threads, torch: wasm.threads ?? 1, note: `torch.set_num_threads matches our backend: wasm at ${counts.join(', ')} threads against torch at the same count and at its default, 1 beside cpu, ${os.cpus().length} (all cores) beside tensorflow${plan.mode === 'gpu' ? '; the GPU variant runs torch on CUDA' : ''}` },
    rows,
  };
  const file = writeResult(values.out ?? path.join(appRoot, 'bench', 'results'), result);
  process.stdout.write(`\nConvNet Studio bench (${plan.mode}), ${result.machine.cpus} × ${result.machine.cpuModel}, load ${loadStart[0]!.toFixed(1)} → ${result.machine.loadAverageEnd[0]!.toFixed(1)}, ${seconds.toFixed(0)} s\n`);
  process.stdout.write(`threads: ConvNet Studio wasm ${wasm.threads ?? '?'}, PyTorch ${result.threads.note.split(': ')[1]}\n\n`);
  process.stdout.write(formatTable(rows) + '\n\n');
  process.stdout.write(`ratio = ConvNet Studio / peer; for img/s and files/s higher is better, for ms and MiB lower is.\nwritten ${file}\n`);
  return result;
}

/**
 * Figure 7: opening a 1.2 M-row library and the gallery's requests (through the images.list handler), p99
 * against issue 3's 50 ms target.
 */
async function libraryScaleRows(dir: string): Promise<Row[]> {
  const m = await measureLibraryScale(dir);
  const target = 50;
  const row = (id: string, what: string, v: { median: number; p99: number; samples: number }, note = ''): Row => ({
    figure: 7,
    id: `library.${id}`,
    what,
    unit: 'ms',
    better: 'lower',
    ours: v.p99,
    peerName: 'target: 50 ms p99',
    peer: target,
    ratio: v.p99 / target,
    note: `median ${v.median.toFixed(1)} ms over ${v.samples}; ${m.rows.toLocaleString('en')} rows in ${m.classes} classes, filled in ${m.fillSeconds.toFixed(0)} s${note ? `; ${note}` : ''}`,
  });
  return [
    row('open', 'open a 1.2 M-image library (p99)', m.openMs),
    row('page.first', 'gallery first page, 200 of 1.2 M (p99)', m.firstPageMs),
    row('page.random', 'gallery jump to a random page (p99)', m.randomPageMs, 'anchors of the list already found'),
    row('page.deep.first', 'first jump to the last page after opening (one sample)', m.firstDeepJumpMs, 'finds the anchors of the whole list: one pass over the index'),
    row('page.next', 'gallery page after a jump, by cursor (p99)', m.nextPageMs),
    row('page.class', 'class-filtered gallery page (p99)', m.classPageMs),
    row('page.random.changed', 'jump to a random page right after an edit (p99)', m.randomPageAfterChangeMs, 'the edit (images.update) kept the anchors exact; an import or re-split makes the next deep jump find them again'),
    row('page.search', 'file-name search, first page (p99)', m.searchPageMs, 'a LIKE scan, counted once per version of the list; outside the target of issue 3'),
    row('page.search.next', 'file-name search, page after by cursor (p99)', m.searchNextPageMs),
  ];
}
