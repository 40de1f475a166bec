// The ImageNet AlexNet download and .pth/.onnx import as a user meets them: `convnet serve` pointed (CONVNET_MODEL_URL)
// at a local server holding a generated torchvision-format .pth, the Classify view's download button, its progress,
// the imported model, classification with ImageNet labels, and a dropped .onnx that is not an AlexNet.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnxModel, floatTensor, OnnxAttributeType } from '../../src/interchange/onnx-proto.js';
import { IMAGENET_CLASSES } from '../../src/pretrained/imagenet-classes.js';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { SHAPE_CLASSES, writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';
import { seededTorchvisionAlexnet, stateDictPth } from '../helpers/torch-pth.js';

let serve: ServeProcess;
let files: http.Server;
let root: string;
let cleanup: () => void;
let pthName = '';
let servedUrl = '';
const requests: string[] = [];

/** An ONNX graph that starts like no AlexNet (conv1 with 50 filters). */
function notAlexnet(): Uint8Array {
  const t = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  return encodeOnnxModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [
        { opType: 'Conv', name: 'stem', input: ['x', 'w', 'b'], output: ['c'], attribute: [{ name: 'kernel_shape', type: OnnxAttributeType.INTS, ints: [11, 11] }, { name: 'strides', type: OnnxAttributeType.INTS, ints: [4, 4] }] },
        { opType: 'Relu', name: 'r', input: ['c'], output: ['y'] },
      ],
      initializer: [floatTensor('w', [50, 3, 11, 11], new Float32Array(50 * 363)), floatTensor('b', [50], new Float32Array(50))],
      input: [t('x', [1, 3, 224, 224])],
      output: [t('y', [1, 50, 54, 54])],
    },
  });
}

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('convnet-pretrained-'));
  const bytes = stateDictPth(seededTorchvisionAlexnet(11));
  pthName = `alexnet-owt-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.pth`;
  fs.writeFileSync(path.join(root, pthName), bytes);
  // The first answer trickles (64 KiB per 100 ms) so the UI shows progress and can cancel; later ones honour Range at full speed.
  files = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.range ?? 'whole'}`);
    const file = path.join(root, path.basename(req.url ?? ''));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const size = fs.statSync(file).size;
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.writeHead(start ? 206 : 200, { 'Content-Length': size - start, ...(start ? { 'Content-Range': `bytes ${start}-${size - 1}/${size}` } : {}) });
    if (requests.length > 1) {
      fs.createReadStream(file, { start }).pipe(res);
      return;
    }
    const fd = fs.openSync(file, 'r');
    let at = 0;
    const step = (): void => {
      if (res.destroyed || at >= size) {
        fs.closeSync(fd);
        res.end();
        return;
      }
      const chunk = Buffer.alloc(Math.min(65536, size - at));
      fs.readSync(fd, chunk, 0, chunk.length, at);
      at += chunk.length;
      res.write(chunk);
      setTimeout(step, 100);
    };
    step();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  const images = path.join(root, 'photos');
  fs.mkdirSync(images);
  for (let i = 0; i < 3; i++) {
    const raw = Buffer.alloc(300 * 260 * 3);
    raw.forEach((_, k) => (raw[k] = (k * (i + 3) + ((k / 900) | 0) * 7) % 256));
    await sharp(raw, { raw: { width: 300, height: 260, channels: 3 } }).png().toFile(path.join(images, `photo${i}.png`));
  }
  servedUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/models/${pthName}`;
  process.env.CONVNET_MODEL_URL = servedUrl;
  try {
    serve = await startServe(path.join(root, 'lib'));
  } finally {
    delete process.env.CONVNET_MODEL_URL;
  }
});

afterAll(async () => {
  await serve?.stop();
  files?.closeAllConnections();
  await new Promise<void>((r) => (files ? files.close(() => r()) : r()));
  cleanup?.();
});

describe('pretrained ImageNet AlexNet in the Classify view', () => {
  it('downloads with progress, cancels, resumes (Range), verifies and imports it, then classifies photos with ImageNet labels', async () => {
    const browser = await launchChromium();
    const errors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      recordPageErrors(page, errors);
      await page.goto(serve.url);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
      await page.getByRole('button', { name: 'Download ImageNet AlexNet (233 MB)' }).click();
      const bar = page.getByRole('progressbar', { name: 'ImageNet AlexNet download' });
      await expect.poll(() => bar.getAttribute('aria-valuenow').catch(() => null), { timeout: 30_000 }).toMatch(/^[0-9]+$/);
      await expect.poll(() => page.getByTestId('pretrained-download').textContent(), { timeout: 30_000 }).toMatch(/Downloading ImageNet AlexNet: [1-9][0-9]* of 2[0-9]{2} MB/);
      await page.screenshot({ path: artifactPath('e2e', 'pretrained-downloading.png') });
      await page.getByTestId('pretrained-download').getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('button', { name: 'Resume ImageNet AlexNet download' }).waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('pretrained-download').textContent()).toContain('The download was cancelled; what arrived is kept');
      const kept = fs.statSync(path.join(root, 'lib', 'downloads', `${pthName}.part`)).size;
      expect(kept).toBeGreaterThan(0);

      await page.getByRole('button', { name: 'Resume ImageNet AlexNet download' }).click();
      const facts = page.getByTestId('model-facts');
      await expect.poll(() => facts.textContent().catch(() => ''), { timeout: 240_000 }).toContain('1000');
      expect(requests).toEqual([`GET /models/${pthName} whole`, `GET /models/${pthName} bytes=${kept}-`]);
      expect(await page.getByTestId('pretrained-done').textContent()).toBe('ImageNet AlexNet downloaded, verified and imported as model 1.');
      expect(await facts.textContent()).toContain('alexnet');
      expect(await page.locator('#classify-model option:checked').textContent()).toBe('ImageNet AlexNet (torchvision IMAGENET1K_V1)');
      // The download is converted into the library; the file itself is not kept.
      expect(fs.readdirSync(path.join(root, 'lib', 'downloads'))).toEqual([]);
      expect(await facts.textContent()).toContain(`From${process.env.CONVNET_MODEL_URL ?? servedUrl}`);
      await page.screenshot({ path: artifactPath('e2e', 'pretrained-models.png') });

      await page.getByLabel('Image or folder path on the server').fill(path.join(root, 'photos'));
      await page.getByRole('button', { name: 'Classify', exact: true }).last().click();
      await expect.poll(() => page.getByTestId('classify-phase').textContent(), { timeout: 120_000 }).toBe('Classified 3 of 3');
      const first = (await page.getByTestId('result-card').first().textContent()) ?? '';
      expect(IMAGENET_CLASSES.some((c) => first.includes(c))).toBe(true);
      await page.screenshot({ path: artifactPath('e2e', 'pretrained-classify.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('the downloaded model starts a fast-head run from the Train view, and the Runs view shows its lineage', async () => {
    await writeShapesDataset(path.join(root, 'tiny'), 10, 64, 3, SHAPE_CLASSES.slice(0, 3));
    const cli = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'import', path.join(root, 'tiny'), '--library', path.join(root, 'lib'), '--name', 'tiny'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, CONVNET_LIBRARY: '' },
    });
    expect(cli.status, cli.stderr).toBe(0);
    const browser = await launchChromium();
    const errors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      recordPageErrors(page, errors);
      await page.goto(serve.url);
      const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });
      await nav('Train').click();
      await page.getByTestId('train-form').waitFor();
      await page.getByLabel('Dataset', { exact: true }).selectOption({ label: 'tiny — 30 images, 3 classes' });
      await page.getByLabel('Starting weights').selectOption({ label: 'Model 1 — ImageNet AlexNet (torchvision IMAGENET1K_V1) (alexnet, 1000 classes)' });
      await page.getByLabel('Freeze').selectOption('all-but-last');
      const plan = (await page.getByTestId('fine-tune-plan').textContent()) ?? '';
      expect(plan).toContain("fc8, the last layer, sized to this dataset's 3 classes");
      expect(plan).toContain('alexnet at 224 px');
      await page.getByLabel('Epochs', { exact: true }).fill('2');
      await page.getByRole('radio', { name: /WebAssembly/ }).check();
      await page.screenshot({ path: artifactPath('e2e', 'pretrained-fine-tune-form.png') });
      await page.getByRole('button', { name: 'Start training' }).click();
      await page.getByTestId('train-finished').waitFor({ timeout: 240_000 });
      expect(await page.getByTestId('train-final-status').textContent()).toBe('Completed');
      await page.getByTestId('open-in-runs').click();
      await page.locator('[data-run-id="1"]').waitFor();
      expect(await page.locator('[data-run-id="1"]').getByTestId('run-row-parent').textContent()).toBe('← model 1');
      await page.getByTestId('run-detail').waitFor();
      expect(await page.getByTestId('run-lineage').textContent()).toMatch(/^\s*Fine-tuned from\s+model 1 \(ImageNet AlexNet \(torchvision IMAGENET1K_V1\)\)\s*$/);
      expect(await page.getByTestId('run-log').textContent()).toContain(
        'copied conv1, conv2, conv3, conv4, conv5, fc6, fc7; re-initialised fc8 (the last layer, sized to the 3 new classes); frozen conv1, conv2, conv3, conv4, conv5, fc6, fc7',
      );
      expect(await page.getByTestId('run-log').textContent()).toContain('Training alexnet at 224 px on 24 images');
      await page.screenshot({ path: artifactPath('e2e', 'pretrained-fine-tune-lineage.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('a dropped .onnx that is not an AlexNet is uploaded and refused with the node that does not fit', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(serve.url);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
      await page.getByTestId('model-picker').waitFor();
      const b64 = Buffer.from(notAlexnet()).toString('base64');
      await page.evaluate((data64) => {
        const data = new DataTransfer();
        data.items.add(new File([Uint8Array.from(atob(data64), (c) => c.charCodeAt(0))], 'resnet.onnx'));
        for (const type of ['dragenter', 'dragover', 'drop']) {
          document.querySelector('.classify')!.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
        }
      }, b64);
      const alert = page.getByTestId('model-picker').getByRole('alert');
      await expect.poll(() => alert.textContent().catch(() => ''), { timeout: 60_000 }).toContain('node 0 (Conv "stem") (conv 50 filters 11×11/4, groups 1) does not start an AlexNet');
      await page.screenshot({ path: artifactPath('e2e', 'pretrained-drop-refused.png') });
    } finally {
      await browser.close();
    }
  });
});

describe('convnet models import FILE (CLI)', () => {
  it('imports a torchvision .pth as alexnet with ImageNet labels, and `convnet classify --model ID` names ImageNet classes', () => {
    const lib = path.join(root, 'cli-lib');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args, '--library', lib], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CONVNET_LIBRARY: '' } });
    const imported = cli('models', 'import', path.join(root, pthName), '--json');
    expect(imported.status, imported.stderr).toBe(0);
    const model = JSON.parse(imported.stdout) as { id: number; arch: string; classes: string[]; inputSize: number; sourceDir: string };
    expect([model.arch, model.classes.length, model.classes[0], model.inputSize, model.sourceDir]).toEqual(['alexnet', 1000, 'tench', 224, path.join(root, pthName)]);
    const classified = cli('classify', '--model', String(model.id), path.join(root, 'photos', 'photo0.png'), '--json');
    expect(classified.status, classified.stderr).toBe(0);
    const line = JSON.parse(classified.stdout.trim().split('\n')[0]!) as { predictions: Array<{ label: string }> };
    expect(line.predictions).toHaveLength(5);
    expect(line.predictions.every((p) => IMAGENET_CLASSES.includes(p.label))).toBe(true);
  });
});
