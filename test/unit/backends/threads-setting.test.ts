import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveThreads } from '../../../src/backends/index.js';

describe('the threads setting', () => {
  const saved = process.env.CONVNET_THREADS;
  afterEach(() => {
    if (saved === undefined) {
      delete process.env.CONVNET_THREADS;
    } else {
      process.env.CONVNET_THREADS = saved;
    }
  });

  it('is the number asked for, else CONVNET_THREADS, else every core', () => {
    delete process.env.CONVNET_THREADS;
    expect(resolveThreads()).toBe(os.availableParallelism());
    expect(resolveThreads(null)).toBe(os.availableParallelism());
    process.env.CONVNET_THREADS = '3';
    expect(resolveThreads()).toBe(3);
    expect(resolveThreads(1)).toBe(1);
  });

  it('refuses what is not a whole number from 1 to 256, naming where it came from', () => {
    process.env.CONVNET_THREADS = 'lots';
    expect(() => resolveThreads()).toThrow('CONVNET_THREADS=lots: expected a whole number of threads from 1 to 256');
    expect(() => resolveThreads(0)).toThrow('threads 0: expected a whole number of threads from 1 to 256');
    expect(() => resolveThreads(1.5)).toThrow('threads 1.5');
    expect(() => resolveThreads(257)).toThrow('threads 257');
  });
});
