import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread. A `.ts` URL (running from source, e.g. under vitest) is loaded through tsx:
 * `execArgv: ['--import', 'tsx']` does not reach a worker's entry module on Node 20, so a tiny
 * bootstrap registers tsx's ESM hooks inside the worker and then imports the module.
 */
export function spawnWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) {
    return new Worker(url, options);
  }
  const bootstrap = `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** URL of a sibling module with the caller's own extension: `siblingModule(import.meta.url, 'batch-worker')`. */
export function siblingModule(importMetaUrl: string, name: string): URL {
  const ext = new URL(importMetaUrl).pathname.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, importMetaUrl);
}

let tsxApi: string | null = null;

/** File URL of tsx's ESM API, resolved from this package rather than the process's cwd. */
function tsxEsmApi(): string {
  if (tsxApi === null) {
    const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
    tsxApi = pathToFileURL(join(dirname(manifest), pkg.exports['./esm/api']!.import.default)).href;
  }
  return tsxApi;
}
