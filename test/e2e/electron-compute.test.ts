// The desktop app's compute window: a webgpu run trains in a hidden, locked-down window fed by the
// engine, records its adapter, and leaves the UI window alone. Needs the Electron binary.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { _electron as electron } from 'playwright-core';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { repoRoot, tempDir } from '../helpers/temp.js';

const pathFile = path.join(repoRoot, 'node_modules', 'electron', 'path.txt');
const exe = fs.existsSync(pathFile) ? path.join(repoRoot, 'node_modules', 'electron', 'dist', fs.readFileSync(pathFile, 'utf8')) : null;
const skipReason = !exe
  ? 'the Electron binary is not installed (node_modules/electron/path.txt missing: its download needs network access)'
  : !fs.existsSync(exe)
    ? `the Electron binary ${exe} is missing`
    : !fs.existsSync(path.join(repoRoot, 'build', 'electron-native', 'better_sqlite3.node'))
      ? 'better-sqlite3 is not built for Electron (run `node scripts/electron-native.mjs`)'
      : !fs.existsSync(path.join(repoRoot, 'build', 'preload', 'compute-preload.cjs'))
        ? 'build/preload/compute-preload.cjs is missing (run `npm run build`)'
        : '';
if (skipReason) {
  console.warn(`[electron compute window test] SKIPPED: ${skipReason}`);
}

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

type Api = Record<string, (input?: unknown) => Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>>;

describe.skipIf(!!skipReason)(`Electron compute window${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('trains a webgpu run in a hidden locked-down window and records the adapter', async () => {
    const lib = tempDir();
    const data = tempDir();
    cleanups.push(lib.cleanup, data.cleanup);
    await writeShapesDataset(data.dir, 12, 32, 1, ['circle', 'square', 'vstripes']);
    const app = await electron.launch({ executablePath: exe!, args: [repoRoot, '--library', lib.dir, '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'], cwd: repoRoot });
    try {
      const page = await app.firstWindow();
      await page.getByTestId('backend').waitFor({ timeout: 60_000 });
      const call = (method: string, input?: unknown) =>
        page.evaluate(([m, i]) => ((globalThis as unknown as { convnet: { api: Api } }).convnet.api[m as string]!(i)), [method, input] as const);
      const info = (await call('app.info')) as { result: { compute: { mode: string } } };
      expect(info.result.compute.mode).toBe('compute-window');
      // The hidden window names the adapters before any run (the Train view shows them).
      const status = (await call('app.compute')) as { result: { adapters: Array<{ backend: string; available: boolean; label: string | null }> } };
      expect(status.result.adapters.map((a) => a.backend)).toEqual(['webgpu', 'webgl']);
      expect(status.result.adapters[0]!.available).toBe(true);
      expect(status.result.adapters[0]!.label).toMatch(/^WebGPU: /);
      await call('datasets.import', { paths: [data.dir], name: 'shapes', split: { train: 0.75, val: 0.25, test: 0, seed: 1 } });
      await expect.poll(async () => ((await call('datasets.list')) as { result: unknown[] }).result.length, { timeout: 60_000 }).toBe(1);
      const datasets = (await call('datasets.list')) as { result: Array<{ id: number }> };
      const started = (await call('runs.start', { datasetId: datasets.result[0]!.id, backend: 'webgpu', epochs: 1, batchSize: 8, imageSize: 16 })) as { ok: boolean; result: { id: number } };
      expect(started.ok).toBe(true);
      const runId = started.result.id;
      // The compute window is hidden, sandboxed and isolated like the UI's.
      await expect.poll(() => app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length), { timeout: 30_000 }).toBe(2);
      const compute = await app.evaluate(async ({ BrowserWindow }) =>
        Promise.all(
          BrowserWindow.getAllWindows()
            .filter((w) => w.webContents.getURL().includes('/compute/'))
            .map(async (w) => ({ visible: w.isVisible(), globals: await w.webContents.executeJavaScript('[typeof require, typeof process, typeof window.convnet].join()') })),
        ),
      );
      expect(compute).toHaveLength(1);
      expect(compute[0]!.visible).toBe(false);
      expect(compute[0]!.globals).toBe('undefined,undefined,undefined');
      await expect
        .poll(async () => ((await call('runs.get', { id: runId })) as { result: { status: string } }).result.status, { timeout: 400_000, interval: 2000 })
        .toMatch(/completed|failed|interrupted/);
      const run = (await call('runs.get', { id: runId })) as { result: { status: string; backend: string; device: string; error: string | null } };
      expect(run.result.error).toBeNull();
      expect(run.result.status).toBe('completed');
      expect(run.result.backend).toBe('webgpu');
      expect(run.result.device).toMatch(/^WebGPU: /);
    } finally {
      await app.close();
    }
  });
});
