// Pause, Resume and Stop in the Train view, end to end in browser mode, on a run long enough that they matter:
// 2,000 generated shapes (1,600 for training) at 64 px on wasm in batches of 32, so one epoch is 50 batches and
// tens of seconds. Each control must show its effect within a batch or two, not at the end of the epoch.
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let library: string;
const errors: string[] = [];
/** Every contract method the page sent over its WebSocket, in order. */
const sentMethods: string[] = [];

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 200, 32, 1);
  library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'import', shapes, '--library', library, '--json'], { cwd: repoRoot, stdio: 'pipe' });
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  recordPageErrors(page, errors);
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      const method = (JSON.parse(String(payload)) as { method?: string }).method;
      if (method) {
        sentMethods.push(method);
      }
    }),
  );
  await page.goto(serve.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });
const phase = (): Promise<string | null> => page.getByTestId('train-phase').textContent();
/** The batch the progress card shows ("12 / 50" → 12). */
const batch = async (): Promise<number> => Number(((await page.getByTestId('train-batches').textContent()) ?? '').split('/')[0]!.trim() || NaN);

describe('Pause, Resume and Stop in the Train view', () => {
  it('Pause turns into Resume within a batch, Resume trains on, Stop ends the run stopped mid-epoch', async () => {
    await nav('Train').click();
    await page.getByTestId('train-form').waitFor();
    await page.getByRole('radio', { name: /alexnet-small/ }).check();
    await page.getByRole('radio', { name: /WebAssembly/ }).check();
    await page.getByLabel('Image size (px)').fill('64');
    await page.getByLabel('Epochs', { exact: true }).fill('1');
    await page.getByLabel('Batch size').fill('32');
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect.poll(phase, { timeout: 180_000 }).toBe('Training epoch 1 of 1');
    await expect.poll(batch, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);

    // Pause: "Pausing after this batch…", then Paused with a Resume button, and the batch counter stands still.
    // The worker's run.status event says so: the page asks nothing more than runs.pause meanwhile (no polling).
    const sentBeforePause = sentMethods.length;
    await page.getByRole('button', { name: 'Pause' }).click();
    const pausedWithin = Date.now();
    await expect.poll(phase, { timeout: 15_000, interval: 100 }).toBe('Paused');
    expect(Date.now() - pausedWithin).toBeLessThan(12_000);
    expect(await page.getByTestId('run-status').textContent()).toBe('Paused');
    expect(await page.getByRole('button', { name: 'Resume' }).isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    expect(await page.getByTestId('train-progress').textContent()).toContain('The run waits here; Resume continues from this batch.');
    const pausedAt = await batch();
    expect(pausedAt).toBeLessThan(50);
    await page.waitForTimeout(2500);
    expect(await batch()).toBe(pausedAt);
    expect(sentMethods.slice(sentBeforePause)).toEqual(['runs.pause']);
    await page.screenshot({ path: artifactPath('e2e', 'train-controls-paused.png') });

    // Resume: training again from that batch, with Pause back.
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(phase, { timeout: 15_000 }).toBe('Training epoch 1 of 1');
    await expect.poll(batch, { timeout: 30_000 }).toBeGreaterThan(pausedAt);
    expect(await page.getByRole('button', { name: 'Pause' }).isEnabled()).toBe(true);
    expect(await page.getByTestId('run-status').textContent()).toBe('Training');
    await page.screenshot({ path: artifactPath('e2e', 'train-controls-resumed.png') });

    // Stop: the run ends Stopped within a batch or two, long before the epoch's 50 batches.
    const stoppedFrom = await batch();
    await page.getByRole('button', { name: 'Stop' }).click();
    const finished = page.getByTestId('train-finished');
    await finished.waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('train-final-status').textContent()).toBe('Stopped');
    expect(await finished.textContent()).toContain('the checkpoint is kept');
    await page.screenshot({ path: artifactPath('e2e', 'train-controls-stopped.png') });

    await page.getByTestId('open-in-runs').click();
    const row = page.locator('[data-testid="run-row"][data-run-id="1"]');
    await expect.poll(() => row.getByTestId('run-row-status').textContent()).toBe('Stopped');
    const log = page.getByTestId('run-log');
    await log.waitFor();
    const stoppedAt = Number(/Stopped at epoch 1, batch (\d+);/.exec((await log.textContent()) ?? '')?.[1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(stoppedFrom);
    expect(stoppedAt).toBeLessThan(50);
    expect(await page.getByTestId('run-detail').getByRole('button', { name: 'Resume' }).isVisible()).toBe(true);
    expect(errors).toEqual([]);
  }, 400_000);

  it('a run that `convnet train` trains says which process has it; once that process is killed, it can be resumed or deleted', async () => {
    const cli = spawn(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'train', '--dataset', 'shapes', '--library', library, '--epochs', '1', '--image-size', '64', '--batch-size', '32', '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    cli.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    await new Promise<void>((resolve, reject) => {
      cli.stderr!.on('data', (d: Buffer) => /Training alexnet-small/.test(d.toString()) && resolve());
      cli.once('exit', (code) => reject(new Error(`convnet train exited (${code}) before training`)));
    });
    await page.reload();
    await nav('Runs').click();
    const id = /Run (\d+) started/.exec(stdout)![1];
    const row = page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
    await expect.poll(() => row.getByTestId('run-row-status').textContent()).toBe('Training');
    await row.click();
    const detail = page.getByTestId('run-detail');
    await detail.waitFor();
    expect(await page.getByTestId('run-elsewhere').textContent()).toBe(`Training in process ${cli.pid} on ${os.hostname()}, not in this app: pause or stop it there.`);
    expect(await detail.getByRole('button', { name: 'Watch in Train' }).count()).toBe(0);
    await page.screenshot({ path: artifactPath('e2e', 'train-controls-elsewhere.png') });

    cli.kill('SIGKILL');
    await new Promise((resolve) => cli.once('exit', resolve));
    await page.reload();
    await nav('Runs').click();
    await expect.poll(() => row.getByTestId('run-row-status').textContent()).toBe('Interrupted');
    await row.click();
    await detail.waitFor();
    expect(await page.getByTestId('run-detail-status').textContent()).toBe('Interrupted');
    expect(await detail.getByRole('alert').first().textContent()).toBe(`The process training this run (process ${cli.pid} on ${os.hostname()}) ended unexpectedly; resume continues from its last checkpoint.`);
    expect(await detail.getByRole('button', { name: 'Resume' }).isEnabled()).toBe(true);
    expect(await detail.getByRole('button', { name: 'Delete…' }).isVisible()).toBe(true);
    await page.screenshot({ path: artifactPath('e2e', 'train-controls-killed.png') });
    expect(errors).toEqual([]);
  }, 300_000);
});
