import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CHILD = path.join(import.meta.dirname, 'train-steps-child.ts');

interface Trained {
  xnnpack: number;
  kernels: number;
  hash: string;
  last: number[];
}

/** Trains 3 steps in a fresh process (a wasm backend's threads are fixed when it starts) at `threads`. */
async function train(threads: number): Promise<Trained> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, String(threads)], { env: { ...process.env, CONVNET_THREADS: '' }, timeout: 240_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Trained;
}

describe('training on wasm with threads', () => {
  it('gives the same weights for the same seed and thread count, and the same at 1, 2 and 3 threads', async () => {
    const twoA = await train(2);
    const twoB = await train(2);
    const one = await train(1);
    const three = await train(3);
    // The thread counts were used: XNNPACK's pool and the project's kernel threads alike.
    expect([one, twoA, three].map((r) => [r.xnnpack, r.kernels])).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(twoB.hash, 'same seed, same threads: identical weights').toBe(twoA.hash);
    // Training moved the weights away from where they started (the last bias starts at fixed values).
    expect(new Set(twoA.last.map((v) => v.toFixed(6))).size).toBeGreaterThan(1);
    expect(one.hash, '1 thread (single-threaded build) vs 2').toBe(twoA.hash);
    expect(three.hash, '3 threads vs 2').toBe(twoA.hash);
  }, 600_000);
});
