// For `npm run bench`: webgpu (and webgl) training images/s in Chromium's compute page next to wasm
// in Node on the same machine. Needs the built renderer and a Chromium; playwright-core is a dev
// dependency, loaded only when this runs.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ArchName } from '../src/api/runs.js';
import { contentType, resolveInside } from '../src/server/static.js';
import type { AdapterDescription } from '../src/train/compute/protocol.js';
import { appRoot } from '../src/version.js';
import { activateBackend } from '../src/backends/index.js';
import { measureModelTraining, type TrainingSpeed } from '../src/train/step-speed.js';

/** Flags that give headless Chromium WebGPU; on a machine without a GPU, SwiftShader's software adapter. */
export const WEBGPU_CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-first-run', '--disable-background-networking'];

/** Options of measureWebgpuTraining; defaults are small enough for a software adapter. */
export interface WebgpuBenchOptions {
  chromiumPath?: string;
  backends?: Array<'webgpu' | 'webgl'>;
  arch?: ArchName;
  inputSize?: number;
  batchSize?: number;
  steps?: number;
  /** Also measure wasm in this Node process (default true). */
  wasm?: boolean;
}

/** One backend's figure, with the adapter it ran on. */
export interface WebgpuBenchRow extends TrainingSpeed {
  adapter: AdapterDescription | null;
  /** True when the adapter is software (SwiftShader etc.): the figure says nothing about a GPU. */
  software: boolean;
}

/** Training images/s of an architecture on webgpu/webgl (Chromium compute page) and wasm (Node), same sizes. */
export async function measureWebgpuTraining(options: WebgpuBenchOptions = {}): Promise<{ rows: WebgpuBenchRow[]; note: string }> {
  const spec = { arch: options.arch ?? 'alexnet-small', inputSize: options.inputSize ?? 32, batchSize: options.batchSize ?? 16, steps: options.steps ?? 3 } as const;
  const rows: WebgpuBenchRow[] = [];
  const dir = path.join(appRoot, 'build', 'renderer');
  if (!fs.existsSync(path.join(dir, 'compute', 'compute.html'))) {
    throw new Error('build/renderer/compute/compute.html is missing: run `npm run build:renderer` first.');
  }
  const server = http.createServer((req, res) => {
    const file = resolveInside(dir, new URL(req.url ?? '/', 'http://x').pathname);
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': contentType(file) }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { chromium } = await import('playwright-core');
  const executablePath = options.chromiumPath ?? process.env.CHROMIUM_PATH;
  const env = { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' };
  const browser = await chromium.launch({ ...(executablePath ? { executablePath } : {}), args: [...WEBGPU_CHROMIUM_ARGS, '--no-zygote'], headless: true, env });
  try {
    for (const backend of options.backends ?? ['webgpu', 'webgl']) {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/compute/compute.html`);
      await page.waitForFunction(() => document.title.includes('waiting'));
      // The page's own protocol, spoken from inside the page: open the backend, then time training steps.
      const result = (await page.evaluate(
        ([b, s]) =>
          new Promise<{ adapter: unknown; speed: unknown }>((resolve, reject) => {
            const { port1, port2 } = new MessageChannel();
            port1.onmessage = (e: MessageEvent) => {
              const m = e.data as { type: string; adapter?: unknown; speed?: unknown; message?: string };
              if (m.type === 'ready') {
                (globalThis as Record<string, unknown>).__adapter = m.adapter;
                port1.postMessage({ type: 'speed', ...(s as object) });
              } else if (m.type === 'speed') {
                resolve({ adapter: (globalThis as Record<string, unknown>).__adapter, speed: m.speed });
              } else if (m.type === 'error') {
                reject(new Error(m.message));
              }
            };
            window.postMessage('convnet-compute-port', '*', [port2]);
            port1.postMessage({ type: 'open', backend: b });
          }),
        [backend, spec] as const,
      )) as unknown as { adapter: AdapterDescription; speed: TrainingSpeed };
      rows.push({ ...result.speed, adapter: result.adapter, software: result.adapter.software });
      await page.close();
    }
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (options.wasm ?? true) {
    await activateBackend('wasm');
    rows.push({ ...(await measureModelTraining(spec)), adapter: null, software: false });
  }
  const software = rows.some((r) => r.software);
  return {
    rows,
    note: software
      ? 'webgpu/webgl ran on a software adapter (SwiftShader, CPU): these figures measure the code path, not a GPU.'
      : 'webgpu/webgl ran on a hardware adapter.',
  };
}
