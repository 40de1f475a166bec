import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../../src/api/contract.js';
import { runCli } from '../../../src/cli/index.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { captureIO, trainedFixture, type TrainedFixture } from './fixture.js';

let fx: TrainedFixture;
let studio: Studio;

beforeAll(async () => {
  fx = await trainedFixture();
  studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
});
afterAll(async () => {
  await studio?.close();
  fx?.cleanup();
});

describe('classify.files', () => {
  it('classifies a folder in order, lists bad files with reasons, and streams progress, results and the end', async () => {
    const seen: Array<{ event: EventName; payload: unknown }> = [];
    const off = studio.events.onAny((event, payload) => {
      if (event.startsWith('classify.')) {
        seen.push({ event, payload });
      }
    });
    const { jobId, total } = await studio.call('classify.files', { source: { runId: fx.runId }, paths: [fx.batchDir] });
    const job = await studio.call('classify.job', { jobId, wait: true });
    off();
    expect(total).toBe(fx.good.length + 3);
    expect(job.status).toBe('completed');
    expect(job.classes).toEqual(['circle', 'hstripes', 'square']);
    expect(job.results.map((r) => r.path)).toEqual(fx.good);
    for (const r of job.results) {
      // 3 classes: top-5 holds all three, most probable first, summing to 1.
      expect(r.predictions.map((p) => p.label).sort()).toEqual(['circle', 'hstripes', 'square']);
      expect(r.predictions[0]!.probability).toBeGreaterThanOrEqual(r.predictions[1]!.probability);
      expect(r.predictions.reduce((a, p) => a + p.probability, 0)).toBeCloseTo(1, 4);
    }
    const reasons = Object.fromEntries(job.errors.map((e) => [path.basename(e.path), `${e.kind}: ${e.reason}`]));
    expect(reasons).toEqual({
      'broken.jpg': expect.stringMatching(/^corrupt: corrupt .*JPEG/),
      'empty.png': 'empty: empty file (0 bytes)',
      'notes.txt': 'not-image: not an image file (.txt)',
    });
    expect(job.timing!.views).toBe(fx.good.length);
    expect(job.timing!.msPerImage).toBeGreaterThan(0);

    const events = seen.filter((s) => (s.payload as { jobId: string }).jobId === jobId);
    const streamed = events.filter((e) => e.event === 'classify.result').flatMap((e) => {
      const p = e.payload as { items: Array<{ path: string }>; errors: Array<{ path: string }> };
      return [...p.items, ...p.errors].map((x) => x.path);
    });
    expect(streamed.sort()).toEqual([...fx.good, ...Object.values(fx.bad)].sort());
    const progress = events.filter((e) => e.event === 'classify.progress').map((e) => e.payload as { done: number; total: number; failed: number });
    expect(progress.at(-1)).toEqual({ jobId, done: total, total, failed: 3 });
    expect(events.filter((e) => e.event === 'classify.finished')).toHaveLength(1);
    expect(events.at(-1)!.event).toBe('classify.finished');
  });

  it('ten-crop changes nothing structurally and evaluates ten views per image', async () => {
    const files = fx.good.slice(0, 4);
    const one = await studio.call('classify.job', { jobId: (await studio.call('classify.files', { source: { runId: fx.runId }, paths: files, topK: 2 })).jobId, wait: true });
    const ten = await studio.call('classify.job', { jobId: (await studio.call('classify.files', { source: { runId: fx.runId }, paths: files, topK: 2, tenCrop: true })).jobId, wait: true });
    expect(ten.tenCrop).toBe(true);
    expect(ten.results.map((r) => r.path)).toEqual(one.results.map((r) => r.path));
    expect(ten.results.map((r) => r.predictions.length)).toEqual([2, 2, 2, 2]);
    expect(ten.errors).toEqual([]);
    expect(one.timing!.views).toBe(4);
    expect(ten.timing!.views).toBe(40);
    const cost = await studio.call('classify.cost', { source: { runId: fx.runId } });
    expect(cost.centerMsPerImage).toBeGreaterThan(0);
    expect(cost.tenCropMsPerImage).toBeGreaterThan(0);
    expect(cost.backend).toBe(one.backend);
  });

  it('exports results as CSV and JSON, as text or into a file', async () => {
    const { jobId } = await studio.call('classify.files', { source: { runId: fx.runId }, paths: [fx.good[0]!, fx.bad.empty], topK: 2 });
    const job = await studio.call('classify.job', { jobId, wait: true });
    const csv = await studio.call('classify.exportResults', { jobId, format: 'csv' });
    const lines = csv.text!.trim().split('\n');
    expect(lines[0]).toBe('path,top1,confidence,top5,error');
    const [p1, p2] = job.results[0]!.predictions;
    expect(lines[1]).toBe(`${fx.good[0]},${p1!.label},${p1!.probability.toFixed(6)},${p1!.label}:${p1!.probability.toFixed(6)}|${p2!.label}:${p2!.probability.toFixed(6)},`);
    expect(lines[2]).toBe(`${fx.bad.empty},,,,empty file (0 bytes)`);
    const file = path.join(fx.root, 'out', 'results.json');
    const written = await studio.call('classify.exportResults', { jobId, format: 'json', outFile: file });
    expect(written).toEqual({ format: 'json', rows: 2, file, text: null });
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.results).toEqual(job.results);
    expect(doc.errors).toEqual(job.errors);
  });

  it('cancels a job between batches, keeping what it classified', async () => {
    const dir = path.join(fx.root, 'many');
    fs.mkdirSync(dir);
    for (let i = 0; i < 60; i++) {
      fs.copyFileSync(fx.good[i % fx.good.length]!, path.join(dir, `${String(i).padStart(2, '0')}.png`));
    }
    const { jobId, total } = await studio.call('classify.files', { source: { runId: fx.runId }, paths: [dir], tenCrop: true });
    const cancelled = await studio.call('classify.cancel', { jobId });
    expect(total).toBe(60);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.results.length).toBe(cancelled.done);
    expect(cancelled.done).toBeLessThan(60);
    expect((await studio.call('classify.job', { jobId })).status).toBe('cancelled');
  });

  it('refuses unknown runs, models and jobs with clear messages', async () => {
    await expect(studio.call('classify.files', { source: { runId: 99 }, paths: [fx.good[0]!] })).rejects.toThrow(/Run 99 does not exist/);
    await expect(studio.call('classify.files', { source: { modelId: 5 }, paths: [fx.good[0]!] })).rejects.toThrow(/Model 5 does not exist/);
    await expect(studio.call('classify.files', { source: { modelDir: fx.root }, paths: [fx.good[0]!] })).rejects.toThrow(/not a model folder/);
    await expect(studio.call('classify.job', { jobId: 'nope' })).rejects.toThrow(/No classification job/);
  });
});

describe('convnet classify', () => {
  it('--json prints one object per image and line, errors with their reason', async () => {
    const io = captureIO();
    const code = await runCli(['classify', '--run', String(fx.runId), '--library', fx.lib, '--top', '2', '--json', fx.good[0]!, fx.bad.text, fx.good[1]!], io);
    expect(code).toBe(0);
    const lines = io.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const byPath = new Map(lines.map((l) => [l.path, l]));
    expect(Object.keys(byPath.get(fx.good[0]!)!)).toEqual(['path', 'predictions']);
    expect(byPath.get(fx.good[0]!)!.predictions).toHaveLength(2);
    expect(Object.keys(byPath.get(fx.good[0]!)!.predictions[0])).toEqual(['label', 'probability']);
    expect(byPath.get(fx.bad.text)).toEqual({ path: fx.bad.text, error: expect.stringMatching(/^not an image: it contains text/) });
  });

  it('--csv prints a header and one row per file', async () => {
    const io = captureIO();
    expect(await runCli(['classify', '--run', String(fx.runId), '--library', fx.lib, '--csv', '--ten-crop', fx.batchDir], io)).toBe(0);
    const lines = io.stdout.trim().split('\n');
    expect(lines[0]).toBe('path,top1,confidence,top5,error');
    expect(lines).toHaveLength(1 + fx.good.length + 3);
    const row = lines.find((l) => l.startsWith(fx.good[0]!))!;
    expect(row).toMatch(/^[^,]+,(circle|square|hstripes),[01]\.\d{6},(\w+:[01]\.\d{6}\|){2}\w+:[01]\.\d{6},$/);
    expect(lines.find((l) => l.startsWith(fx.bad.empty))).toBe(`${fx.bad.empty},,,,empty file (0 bytes)`);
  });

  it('rejects a call without a source or paths (exit 2)', async () => {
    expect(await runCli(['classify', '--library', fx.lib, fx.good[0]!], captureIO())).toBe(2);
    expect(await runCli(['classify', '--run', String(fx.runId), '--library', fx.lib], captureIO())).toBe(2);
  });
});
