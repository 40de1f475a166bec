import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

// tfjs-backend-wasm 4.22 turns threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false
// when IS_NODE, tfjs#3830) because Emscripten's pthread workers are handed blob: URLs, which
// worker_threads rejects (ERR_WORKER_PATH). Written to files, the same scripts run: the worker
// script as is, the main script (a factory's source text) once the bundle's module-level
// requires it refers to are defined. These names are the 4.22 node bundle's; the version is pinned.
const MAIN_PRELUDE =
  "var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os'), commonjsGlobal = globalThis;\n";
// Inside a worker the main script arrives as what the patched Blob returned: a String holding a path.
const WORKER_PRELUDE = 'const __toUrl = URL.createObjectURL; URL.createObjectURL = (b) => (b instanceof String ? String(b) : __toUrl(b));\n';

let enabled = false;

/**
 * Lets tfjs-backend-wasm start its multi-threaded SIMD build under Node; call before
 * tf.setBackend('wasm'). XNNPACK then uses min(threads, logical cores / 2) threads (tfjs halves
 * the count for hyper-threading). Patches the global Blob and URL.createObjectURL for that.
 */
export function enableWasmThreadsInNode(threads: number): void {
  setThreadsCount(threads);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  if (enabled) {
    return;
  }
  enabled = true;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnet-wasm-threads-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const write = (text: string) => {
    const file = path.join(dir, `script-${files++}.cjs`);
    fs.writeFileSync(file, text);
    return file;
  };
  const texts = new WeakMap<Blob, string>();
  const NativeBlob = globalThis.Blob;
  class TextBlob extends NativeBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      const text = parts?.every((p) => typeof p === 'string') ? parts.join('') : undefined;
      if (text?.startsWith('var WasmBackendModuleThreadedSimd')) {
        // Posted to every pthread worker, which importScripts it: make it a path.
        return new String(write(MAIN_PRELUDE + text)) as unknown as TextBlob;
      }
      if (text?.startsWith('"use strict";var Module={};') && text.includes('WasmBackendModuleThreadedSimd')) {
        texts.set(this, text); // the pthread worker script
      }
    }
  }
  globalThis.Blob = TextBlob;
  const nativeUrl = URL.createObjectURL.bind(URL);
  URL.createObjectURL = ((object: Blob) => {
    if ((object as unknown) instanceof String) {
      return String(object);
    }
    const text = texts.get(object);
    return text === undefined ? nativeUrl(object) : write(WORKER_PRELUDE + text);
  }) as typeof URL.createObjectURL;
}

/**
 * Runs `start` (the wasm backend's initialisation) while os.cpus() reports at least 2 × `threads`
 * cores: tfjs' C++ caps XNNPACK's pool at half the logical cores (for hyper-threading), which on a
 * 2-core machine would leave one thread. The real list is back when `start` settles.
 */
export async function withCoresForThreads<T>(threads: number, start: () => Promise<T>): Promise<T> {
  const real = os.cpus;
  const cpus = real();
  if (cpus.length >= 2 * threads) {
    return start();
  }
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length] as os.CpuInfo);
  try {
    return await start();
  } finally {
    os.cpus = real;
  }
}
