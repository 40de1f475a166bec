import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** The one tfjs instance the engine uses (tfjs-node registers its backend on this same instance). */
export { tf };

const require = createRequire(import.meta.url);

/** Folder holding tfjs-backend-wasm's .wasm binaries, with a trailing separator as setWasmPaths wants. */
export function wasmBinaryDir(): string {
  const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
  // entry is …/tfjs-backend-wasm/dist/tf-backend-wasm.node.js (or similar) inside dist/
  return path.dirname(entry) + path.sep;
}

/** The tfjs version string, for `info`. */
export function tfjsVersion(): string {
  return tf.version.tfjs;
}
