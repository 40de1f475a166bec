import { describe, expect, it } from 'vitest';
import { measureFileLatency, measureInference } from '../../../bench/inference.js';

describe('classify benchmark', () => {
  it('reports images/s at batch 1 and 64 and file-to-result latency (figures only, no timing assertions)', async () => {
    const t = await measureInference({ arch: 'alexnet-small', backend: 'wasm', minSeconds: 0 });
    expect(t).toMatchObject({ arch: 'alexnet-small', inputSize: 32, backend: 'wasm' });
    expect(t.batch1ImagesPerSecond).toBeGreaterThan(0);
    expect(t.batch64ImagesPerSecond).toBeGreaterThan(0);
    const l = await measureFileLatency({ backend: 'active', minSeconds: 0 });
    expect(l).toMatchObject({ arch: 'alexnet-small', backend: 'wasm', runs: 10 });
    expect(l.medianMs).toBeGreaterThan(0);
    expect(l.tenCropMedianMs).toBeGreaterThan(0);
  });
});
