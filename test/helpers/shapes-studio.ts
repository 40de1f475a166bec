// The setup most browser-mode e2e tests share: a generated shapes dataset imported by the CLI into a temp
// library, optional tiny runs trained by the CLI, `convnet serve` on it, and Chromium with the app open.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from './browser.js';
import { callServe, startServe, type ServeProcess } from './serve.js';
import { writeShapesDataset } from './shapes-dataset.js';
import { repoRoot, tempDir } from './temp.js';

/** What to generate, import, train and open. */
export interface ShapesStudioOptions {
  /** Images per class, their side in px, and the classes (the dataset is named "shapes"). */
  perClass: number;
  size: number;
  classes: readonly string[];
  /** Changes the image folder before it is imported (e.g. plants wrong labels). */
  arrange?: (shapesDir: string) => void;
  /** Extra `convnet import` arguments, e.g. ['--split', '80/0/20']. */
  importArgs?: string[];
  /** One `convnet train --dataset shapes` per entry, with these extra arguments, in order. */
  trains?: string[][];
  /** Changes the library after training and before it is served. */
  beforeServe?: (libraryDir: string) => void;
  viewport: { width: number; height: number };
  /** Which page errors to collect: console errors and exceptions (default), or uncaught exceptions only. */
  errors?: 'console' | 'exceptions';
}

/** A served library with the app open in Chromium. */
export interface ShapesStudio {
  serve: ServeProcess;
  browser: Browser;
  page: Page;
  libraryDir: string;
  /** The page's errors as they happen. */
  errors: string[];
  /** One contract call over HTTP with the server's token; throws the contract's message on an error reply. */
  api<T>(method: string, input?: unknown): Promise<T>;
  /** Closes the browser, stops the server, removes the temp folder. */
  close(): Promise<void>;
}

/** Generates, imports, trains, serves and opens, as `o` says. */
export async function openShapesStudio(o: ShapesStudioOptions): Promise<ShapesStudio> {
  const t = tempDir();
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, o.perClass, o.size, 1, o.classes);
  o.arrange?.(shapes);
  const libraryDir = path.join(t.dir, 'library');
  fs.mkdirSync(libraryDir);
  const cli = (args: string[]): void => {
    execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args, '--library', libraryDir, '--json'], { cwd: repoRoot, stdio: 'pipe' });
  };
  cli(['import', shapes, ...(o.importArgs ?? [])]);
  for (const args of o.trains ?? []) {
    cli(['train', '--dataset', 'shapes', ...args]);
  }
  o.beforeServe?.(libraryDir);
  const serve = await startServe(libraryDir);
  const browser = await launchChromium().catch(async (err: unknown) => {
    await serve.stop();
    t.cleanup();
    throw err;
  });
  const page = await browser.newPage({ viewport: o.viewport });
  const errors: string[] = [];
  if (o.errors === 'exceptions') {
    page.on('pageerror', (err) => errors.push(err.message));
  } else {
    recordPageErrors(page, errors);
  }
  await page.goto(serve.url);
  return {
    serve,
    browser,
    page,
    libraryDir,
    errors,
    api: <T>(method: string, input: unknown = {}): Promise<T> => callServe<T>(serve, method, input),
    async close() {
      await browser.close();
      await serve.stop();
      t.cleanup();
    },
  };
}
