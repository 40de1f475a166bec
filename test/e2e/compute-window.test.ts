// The desktop app's compute-window path end to end, minus Electron itself: the studio's RunManager
// trains runs in compute pages of headless Chromium (SwiftShader: software WebGPU) through the same
// ComputeHost interface main/compute-window.ts implements — runs.start, the compute worker, the batch
// feeder from the real packed cache, checkpoints, auto's measured probe, and failover when the
// window goes away mid-run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { CliIO } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/index.js';
import { openStudio, type Studio } from '../../src/studio.js';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { tempDir } from '../helpers/temp.js';
import { builtRenderer, chromiumComputeHost, launchWebgpuChromium, serveStatic } from '../helpers/webgpu-page.js';

const built = fs.existsSync(path.join(builtRenderer, 'compute', 'compute.html'));
// SwiftShader trains alexnet-small at seconds per batch here: 3 classes × 8 images of 16 px, batch 8.
const RUN = { arch: 'alexnet-small', imageSize: 16, epochs: 1, batchSize: 8, lr: 0.01, dropout: 0, seed: 5 } as const;

let browser: Browser;
let server: { origin: string; close(): Promise<void> };
let studio: Studio;
let datasetId: number;
const temps: Array<() => void> = [];

beforeAll(async () => {
  if (!built) {
    return;
  }
  server = await serveStatic(builtRenderer);
  browser = await launchWebgpuChromium();
  const t = tempDir();
  temps.push(t.cleanup);
  const images = path.join(t.dir, 'images');
  await writeShapesDataset(images, 8, 16, 3, ['circle', 'hstripes', 'checker']);
  const lib = path.join(t.dir, 'lib');
  const io = { stdout: '', isTTY: false, env: {}, out: (s: string) => void (io.stdout += s), err: () => undefined } satisfies CliIO & { stdout: string };
  expect(await runCli(['import', images, '--library', lib, '--name', 'shapes', '--json'], io)).toBe(0);
  datasetId = (JSON.parse(io.stdout) as { dataset: { id: number } }).dataset.id;
  studio = openStudio({ libraryDir: lib, host: 'electron' });
}, 120_000);
afterAll(async () => {
  await studio?.close();
  await browser?.close();
  await server?.close();
  temps.forEach((c) => c());
});

async function logOf(id: number): Promise<string[]> {
  return (await studio.call('runs.get', { id })).log.map((l) => l.message);
}

describe.skipIf(!built)(`runs in compute windows (headless Chromium, SwiftShader)${built ? '' : ' (skipped: build/renderer/compute missing; run npm run build:renderer)'}`, () => {
  it('app.compute names the adapters the compute window finds, and says they are software here', async () => {
    studio.training.setComputeHost(chromiumComputeHost(browser, server.origin));
    const c = await studio.call('app.compute', {});
    expect(c.mode).toBe('compute-window');
    expect(c.auto).toBeNull();
    const webgpu = c.adapters.find((a) => a.backend === 'webgpu')!;
    expect(webgpu).toMatchObject({ available: true, software: true });
    expect(webgpu.label).toMatch(/^WebGPU: .*\(software rendering, not a GPU\)$/);
    const webgl = c.adapters.find((a) => a.backend === 'webgl')!;
    expect(webgl.available).toBe(true);
    expect(webgl.label).toMatch(/^WebGL: .*SwiftShader/i);
  }, 120_000);

  it('a webgpu run trains in a compute window and records the adapter it ran on', async () => {
    studio.training.setComputeHost(chromiumComputeHost(browser, server.origin));
    const epochs: number[] = [];
    const messages: string[] = [];
    const off = studio.events.on('train.epoch', (e) => e.runId === id && epochs.push(e.epoch));
    const off2 = studio.events.on('train.progress', (p) => p.runId === id && p.message !== null && messages.push(p.message));
    const { id } = await studio.call('runs.start', { datasetId, ...RUN, backend: 'webgpu' });
    await studio.training.settled(id);
    off();
    off2();
    // Like a Node run, the result views have their predictions the moment it finishes (made on the CPU).
    expect(messages.some((m) => m.startsWith('Evaluating the trained model on the validation images'))).toBe(true);
    const before = Date.now();
    const summary = await studio.call('results.summary', { runId: id, split: 'val' });
    expect(summary.images).toBeGreaterThan(0);
    expect(summary.computedAt).toBeLessThan(before);
    const run = await studio.call('runs.get', { id });
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.backend).toBe('webgpu');
    expect(run.device).toMatch(/^WebGPU: .*\(software rendering, not a GPU\)$/);
    expect(run.epochsData.map((e) => e.epoch)).toEqual([1]);
    expect(epochs).toEqual([1]);
    expect(run.epochsData[0]!.valTop1Error).not.toBeNull();
    const runs = await studio.call('runs.list', {});
    expect(runs.find((r) => r.id === id)?.backend).toBe('webgpu');
  }, 420_000);

  it('auto times the same probe step on webgpu and on wasm, and trains on the one measured faster', async () => {
    studio.training.setComputeHost(chromiumComputeHost(browser, server.origin));
    const messages = new Map<number, string[]>();
    const off = studio.events.on('train.progress', (p) => p.message !== null && messages.set(p.runId, [...(messages.get(p.runId) ?? []), p.message]));
    const { id } = await studio.call('runs.start', { datasetId, ...RUN, backend: 'auto' });
    await studio.training.settled(id);
    // A second auto run in the session reuses the decision: nothing is timed, and the Train view does not say so.
    const second = (await studio.call('runs.start', { datasetId, ...RUN, backend: 'auto' })).id;
    await studio.training.settled(second);
    off();
    const timing = /timing a short training step/;
    expect(messages.get(id)!.some((m) => timing.test(m))).toBe(true);
    expect(messages.get(second)!.some((m) => timing.test(m))).toBe(false);
    const run = await studio.call('runs.get', { id });
    expect(run.status).toBe('completed');
    const decision = await studio.training.lastAutoDecision();
    expect(decision).not.toBeNull();
    console.info(`[compute-window test] ${decision!.reason}`);
    const [webgpu, wasm] = decision!.candidates;
    expect(webgpu).toMatchObject({ name: 'webgpu', error: null });
    expect(webgpu!.device).toMatch(/^WebGPU: .*software rendering/);
    expect(wasm).toMatchObject({ name: 'wasm', error: null });
    const faster = webgpu!.secondsPerStep! < wasm!.secondsPerStep! / 1.1 ? 'webgpu' : 'wasm';
    expect(run.backend).toBe(faster);
    expect((await studio.call('app.compute', {})).auto).toMatchObject({ backend: faster, reason: decision!.reason });
    const line = (await logOf(id)).find((m) => m.startsWith('auto measured one probe training step'));
    expect(line).toMatch(new RegExp(`webgpu \\(WebGPU: .*\\) [0-9.]+ ms, wasm \\(.*\\) [0-9.]+ ms → ${faster}`));
  }, 420_000);

  it('pause, resume and stop reach a webgpu run in the compute window within a batch; it ends stopped at that batch', async () => {
    studio.training.setComputeHost(chromiumComputeHost(browser, server.origin));
    // 3 classes × 40 images: 12 training batches of 8, seconds each on SwiftShader.
    const t = tempDir();
    temps.push(t.cleanup);
    await writeShapesDataset(path.join(t.dir, 'more'), 40, 16, 4, ['circle', 'hstripes', 'checker']);
    const io = { stdout: '', isTTY: false, env: {}, out: (s: string) => void (io.stdout += s), err: () => undefined } satisfies CliIO & { stdout: string };
    expect(await runCli(['import', path.join(t.dir, 'more'), '--library', studio.library.dir, '--name', 'more', '--json'], io)).toBe(0);
    const more = (JSON.parse(io.stdout) as { dataset: { id: number } }).dataset.id;
    const statuses: string[] = [];
    let batch = 0;
    const offs = [
      studio.events.on('run.status', (s) => statuses.push(s.status)),
      studio.events.on('train.progress', (p) => p.phase === 'training' && (batch = p.batch)),
    ];
    const until = async (ok: () => boolean, ms: number, what: string): Promise<void> => {
      for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() - t0 > ms) {
          throw new Error(`${what}: not within ${ms} ms (statuses ${statuses.join(', ')}; batch ${batch})`);
        }
      }
    };
    try {
      const { id } = await studio.call('runs.start', { datasetId: more, ...RUN, backend: 'webgpu' });
      await until(() => batch >= 1, 300_000, 'training');
      const from = batch;
      await studio.call('runs.pause', { id });
      await until(() => statuses.includes('paused'), 60_000, 'paused');
      expect((await studio.call('runs.get', { id })).status).toBe('paused');
      const pausedAt = batch;
      expect(pausedAt - from).toBeLessThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 3000));
      expect(batch).toBe(pausedAt);
      await studio.call('runs.resume', { id });
      await until(() => statuses.at(-1) === 'running' && batch > pausedAt, 60_000, 'running again');
      const stopFrom = batch;
      await studio.call('runs.stop', { id });
      await studio.training.settled(id);
      const run = await studio.call('runs.get', { id });
      expect(run.status).toBe('stopped');
      const at = JSON.parse(fs.readFileSync(path.join(studio.library.runsDir, String(id), 'checkpoint', 'checkpoint.json'), 'utf8')).position;
      expect(at.epoch).toBe(0);
      expect(at.batch).toBeGreaterThanOrEqual(stopFrom);
      expect(at.batch).toBeLessThanOrEqual(stopFrom + 3);
      expect(at.batch).toBeLessThan(12);
    } finally {
      offs.forEach((off) => off());
    }
  }, 600_000);

  it('an auto run whose compute window is lost mid-run fails over to the CPU and finishes there', async () => {
    // The probe's figure is replaced so that auto picks this software adapter; the window is real.
    const host = chromiumComputeHost(browser, server.origin, { fakeProbe: 1e-4 });
    studio.training.setComputeHost(host);
    let closed = false;
    const off = studio.events.on('train.progress', (p) => {
      if (p.phase === 'training' && !closed && host.pages.length === 2) {
        closed = true; // pages[0] was the probe's window, pages[1] trains
        void host.pages[1]!.page.close();
      }
    });
    const { id } = await studio.call('runs.start', { datasetId, ...RUN, backend: 'auto' });
    await studio.training.settled(id);
    off();
    expect(closed).toBe(true);
    const run = await studio.call('runs.get', { id });
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.backend).toBe('wasm');
    const log = await logOf(id);
    expect(log.some((m) => /→ webgpu/.test(m))).toBe(true);
    expect(log.some((m) => m.startsWith('Failing over: The compute window was closed.') && m.includes('on wasm'))).toBe(true);
    expect(log.some((m) => /webgpu failed: it failed earlier in this session/.test(m))).toBe(true);
    expect((await studio.call('app.ping', {})).now).toBeGreaterThan(0);
  }, 420_000);
});
