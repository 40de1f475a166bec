import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModelExport } from '../../src/classify/export-folder.js';
import { buildModel } from '../../src/model/index.js';
import { launchChromium } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let root: string;
let lib: string;
let exportDir: string;
let cleanup: () => void;

/** A real export folder (the app's writer) of an untrained alexnet-small with 3 classes. */
async function writeExport(dir: string): Promise<void> {
  const model = buildModel('alexnet-small', { numClasses: 3, seed: 1 });
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  fs.mkdirSync(dir, { recursive: true });
  writeModelExport(dir, artifacts!, { classes: ['circle', 'hstripes', 'square'], inputSize: 32, resizeSize: 36, norm: { mean: [120, 120, 120] }, arch: 'alexnet-small', runId: null });
}

/** A copy of the export with `file` replaced by a FIFO nobody writes to. */
function withFifo(name: string, file: string): string {
  const dir = path.join(root, name);
  fs.cpSync(exportDir, dir, { recursive: true });
  fs.rmSync(path.join(dir, file));
  execFileSync('mkfifo', [path.join(dir, file)]);
  return dir;
}

/** POSTs one API method to the serve process; the reply's status, body and seconds taken. */
async function call(method: string, input: unknown, timeoutMs = 20_000): Promise<{ status: number; body: { ok: boolean; result?: unknown; error?: { message: string } }; seconds: number }> {
  const t0 = performance.now();
  const res = await fetch(`${serve.origin}/api/${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${serve.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: await res.json(), seconds: (performance.now() - t0) / 1000 };
}

beforeAll(async () => {
  const t = tempDir('convnet-model-import-');
  root = t.dir;
  cleanup = t.cleanup;
  exportDir = path.join(root, 'export');
  await writeExport(exportDir);
  lib = path.join(root, 'lib');
  serve = await startServe(lib);
});

afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    // A server stuck in a blocking read ignores SIGTERM's handler: SIGKILL it after a grace period.
    const timer = setTimeout(() => serve.child.kill('SIGKILL'), 5000);
    await serve.stop();
    clearTimeout(timer);
  }
  cleanup?.();
});

describe('models.import over a real convnet serve', () => {
  it('refuses a folder whose README.md or weight shard is a FIFO at once, and keeps answering', async () => {
    for (const [name, file] of [
      ['fifo-readme', 'README.md'],
      ['fifo-shard', 'group1-shard1of1.bin'],
    ] as const) {
      const dir = withFifo(name, file);
      const [imported, info] = await Promise.all([
        call('models.import', { dir }),
        // Sent right behind the import: a server blocked on the FIFO would not answer it either.
        new Promise((r) => setTimeout(r, 200)).then(() => call('app.info', {})),
      ]);
      expect(imported.status).toBe(400);
      expect(imported.body.error!.message).toBe(`${path.join(dir, file)} is a named pipe (FIFO), not a regular file; a model folder holds regular files only.`);
      expect(imported.seconds).toBeLessThan(10);
      expect(info.status).toBe(200);
      expect(info.seconds).toBeLessThan(10);
    }
    expect((await call('models.list', {})).body.result).toEqual([]);
    const models = path.join(lib, 'models');
    expect(fs.existsSync(models) ? fs.readdirSync(models) : []).toEqual([]);

    // The untouched folder still imports, over the same server.
    const good = await call('models.import', { dir: exportDir, name: 'shapes' });
    expect(good.status).toBe(200);
    expect(good.body.result).toMatchObject({ id: 1, name: 'shapes', classes: ['circle', 'hstripes', 'square'], inputSize: 32 });
    expect(fs.readdirSync(models)).toEqual(['1']);
  });

  it('shows the refusal in the Classify view, where the folder path is typed', async () => {
    const dir = path.join(root, 'fifo-readme');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(serve.url);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
      await page.getByTestId('model-picker').getByRole('button', { name: 'Import model…' }).click();
      await page.getByLabel('Exported model folder on the server').fill(dir);
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      const alert = page.getByTestId('model-picker').getByRole('alert');
      await expect.poll(() => alert.textContent(), { timeout: 20_000 }).toContain('README.md is a named pipe (FIFO), not a regular file');
      await page.screenshot({ path: artifactPath('e2e', 'model-import-fifo.png') });
    } finally {
      await browser.close();
    }
  });
});

describe('convnet models import (CLI)', () => {
  it('refuses a FIFO README.md at once with exit code 1 and the reason', () => {
    const cliLib = path.join(root, 'cli-lib');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'models', 'import', path.join(root, 'fifo-readme'), '--library', cliLib], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, CONVNET_LIBRARY: '' },
    });
    expect(r.signal, 'the CLI hung and was killed').toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${path.join(root, 'fifo-readme', 'README.md')} is a named pipe (FIFO), not a regular file`);
    expect((performance.now() - t0) / 1000).toBeLessThan(20);
    const models = path.join(cliLib, 'models');
    expect(fs.existsSync(models) ? fs.readdirSync(models) : []).toEqual([]);
  });
});
