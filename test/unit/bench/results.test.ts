import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { efficiencyRows } from '../../../bench/efficiency.js';
import { benchPlan, threadCounts } from '../../../bench/main.js';
import { findTorchPython, LineProcess } from '../../../bench/protocol.js';
import { formatTable, makeRow, median, pairedRatio, percentile, ratio, resultFileName, skippedRow, writeResult, type BenchResult } from '../../../bench/results.js';
import { compareSteps, stepRow, type StepCase } from '../../../bench/steps.js';
import { describeModel, type ArchName } from '../../../src/model/index.js';

const torch = findTorchPython();
const peerScript = path.resolve(import.meta.dirname, '../../../bench/torch_peer.py');

describe('bench results', () => {
  it('computes medians, percentiles and ours / peer ratios', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
    expect(ratio(30, 60)).toBe(0.5);
    expect(ratio(30, null)).toBeNull();
    expect(ratio(30, 0)).toBeNull();
    expect(ratio(Number.NaN, 2)).toBeNull();
    expect(pairedRatio([10, 40, 30], [20, 40, 10])).toBe(1);
    expect(pairedRatio([10], [])).toBeNull();
  });

  it('writes a result JSON whose rows carry ours, peer and their ratio, and prints them as a table', () => {
    const base = { figure: 1, id: 'train.x', what: 'train x', unit: 'img/s', better: 'higher', peerName: 'PyTorch' } as const;
    const rows = [makeRow({ ...base, ours: 40, peer: 50, samples: { ours: [40], peer: [50] } }), skippedRow({ ...base, id: 'train.y', what: 'train y' }, 'not installed')];
    expect(rows[0]!.ratio).toBeCloseTo(0.8);
    expect(rows[1]).toMatchObject({ ours: null, peer: null, ratio: null, skipped: 'not installed' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
    try {
      const result: BenchResult = {
        suite: 'convnet-studio-bench', version: 1, mode: 'quick', startedAt: '2025-01-02T03:04:05.678Z', seconds: 1,
        machine: { platform: 'linux-x64', cpus: 2, cpuModel: 'x', memoryBytes: 1, loadAverageStart: [0, 0, 0], loadAverageEnd: [0, 0, 0], node: '20' },
        peer: { python: null, torch: null, reason: 'none' }, threads: { wasm: 1, torch: 1, note: '' }, rows,
      };
      const file = writeResult(dir, result);
      expect(path.basename(file)).toBe(resultFileName(new Date(result.startedAt)));
      expect(path.basename(file)).toBe('2025-01-02T03-04-05Z.json');
      const back = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResult;
      expect(back.rows.map((r) => [r.ours, r.peer, r.ratio])).toEqual([[40, 50, 0.8], [null, null, null]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const table = formatTable(rows);
    expect(table).toContain('0.80');
    expect(table).toContain('skipped train.y: not installed');
  });

  it('plans a quick mode with the required figures and the peer on our thread count', () => {
    const plan = benchPlan('quick', 2);
    // wasm at every core (first: figure 5's RSS and figure 3's trainer rate), 2 and 1 thread, and every core against torch's default.
    const wasm32 = plan.train.filter((c) => c.backend === 'wasm' && c.inputSize === 32);
    expect(wasm32.map((c) => [c.oursThreads ?? c.peerThreads, c.peerThreads])).toEqual([[2, 2], [1, 1], [2, 0]]);
    expect(wasm32[0]).toMatchObject({ batch: 64, rss: true });
    expect(plan.train.find((c) => c.backend === 'tensorflow')).toMatchObject({ peerThreads: 2 });
    expect(plan.train.find((c) => c.backend === 'cpu')).toMatchObject({ peerThreads: 1 });
    expect(plan.infer.map((c) => c.batch)).toEqual([1, 1, 1, 64, 64, 64]);
    expect(threadCounts(16)).toEqual([16, 2, 1]);
    expect(threadCounts(16, [1, 4, 8, 16])).toEqual([16, 8, 4, 1]);
    expect(benchPlan('full', 2).infer.some((c) => c.arch === 'alexnet' && c.inputSize === 224)).toBe(true);
  });

  it('computes parallel efficiency from the one-thread rows of the same run, for both sides', () => {
    const c = (t: number, extra: Partial<StepCase> = {}): StepCase => ({ kind: 'train', arch: 'alexnet-small', inputSize: 32, batch: 64, backend: 'wasm', reps: 1, steps: 1, warmup: 0, peerThreads: t, ...extra });
    const row = (ours: number, peer: number) => makeRow({ figure: 1, id: 'x', what: 'x', unit: 'img/s', better: 'higher', ours, peerName: 'torch', peer });
    const rows = efficiencyRows([
      { c: c(4), row: row(360, 300) },
      { c: c(1), row: row(100, 100) },
      { c: c(0, { oursThreads: 4 }), row: row(360, 250) },
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ figure: 1, id: 'efficiency.train.alexnet-small.32px.b64.wasm.t4', ours: 0.9, peer: 0.75, ratio: 1.2 });
  });

  it('runs a tiny step comparison through the product and reports a row without a peer', async () => {
    const c: StepCase = { kind: 'infer', arch: 'alexnet-small', inputSize: 32, batch: 2, backend: 'cpu', reps: 1, steps: 1, warmup: 0, peerThreads: 1 };
    const peer = { python: null, torch: null, reason: 'no torch in this test' };
    const row = stepRow(c, await compareSteps(c, peer, () => undefined), peer);
    expect(row).toMatchObject({ figure: 2, unit: 'img/s', peer: null, ratio: null });
    expect(row.ours).toBeGreaterThan(0);
    expect(row.note).toContain('no torch in this test');
  });

  it.skipIf(!torch.python)('builds the same networks in PyTorch (same parameter counts, grouped convs included)', async () => {
    for (const [arch, inputSize, numClasses] of [['alexnet-small', 32, 10], ['alexnet-small', 64, 10], ['alexnet', 224, 1000], ['alexnet-2012', 224, 1000]] as const) {
      const rows = describeModel(arch as ArchName, { numClasses, inputSize });
      const proc = new LineProcess(torch.python!, [peerScript]);
      try {
        const info = await proc.request({ op: 'setup', task: { kind: 'infer', arch, specs: rows.map((r) => r.spec), inputSize, batch: 1, numClasses, threads: 1, warmup: 0 } });
        expect(info.params, arch).toBe(rows.reduce((s, r) => s + r.params, 0));
      } finally {
        await proc.close();
      }
    }
  });
});
