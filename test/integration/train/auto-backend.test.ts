// auto's rule (pickAuto) and its Node side: the probe step measured in a real worker thread.
import { describe, expect, it } from 'vitest';
import { probeBackend } from '../../../src/backends/index.js';
import { measureNodeBackend } from '../../../src/backends/node-probe.js';
import { decideAutoBackend, pickAuto, type AutoCandidate } from '../../../src/train/auto-backend.js';

const gpu = (s: number | null, error: string | null = null): AutoCandidate => ({ name: 'webgpu', device: 'WebGPU: apple metal-3', secondsPerStep: s, error });
const wasm = (s: number | null, error: string | null = null): AutoCandidate => ({ name: 'wasm', device: 'CPU (test)', secondsPerStep: s, error });

describe('pickAuto', () => {
  it('takes webgpu when it was measured faster, and says both figures', () => {
    const d = pickAuto([gpu(0.004), wasm(0.09)]);
    expect(d.backend).toBe('webgpu');
    expect(d.device).toBe('WebGPU: apple metal-3');
    expect(d.reason).toBe('auto measured one probe training step: webgpu (WebGPU: apple metal-3) 4.0 ms, wasm (CPU (test)) 90 ms → webgpu.');
  });

  it('passes over a webgpu adapter measured slower than the CPU (a software or weak adapter), saying why', () => {
    const d = pickAuto([gpu(0.8), wasm(0.05)]);
    expect(d.backend).toBe('wasm');
    expect(d.reason).toMatch(/webgpu \(WebGPU: apple metal-3\) 800 ms, wasm \(CPU \(test\)\) 50 ms → wasm; webgpu was slower here\.$/);
  });

  it('prefers webgpu within 10 % of the fastest (ties go to the GPU, which frees the CPU)', () => {
    expect(pickAuto([gpu(0.105), wasm(0.1)]).backend).toBe('webgpu');
    expect(pickAuto([gpu(0.115), wasm(0.1)]).backend).toBe('wasm');
  });

  it('falls back to what ran when webgpu failed, keeping the failure in the reason', () => {
    const d = pickAuto([gpu(null, 'WebGPU found no adapter'), wasm(0.07)]);
    expect(d.backend).toBe('wasm');
    expect(d.reason).toContain('webgpu (WebGPU: apple metal-3) failed: WebGPU found no adapter');
  });

  it('refuses with every reason when nothing ran', () => {
    expect(() => pickAuto([gpu(null, 'device lost'), wasm(null, 'out of memory')])).toThrow('No backend could run a training step: webgpu: device lost; wasm: out of memory');
  });
});

describe("auto's Node side", () => {
  it('times the probe step on wasm in a worker thread', async () => {
    const seconds = await measureNodeBackend('wasm', 2);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(30);
  }, 120_000);

  it('a backend that cannot load is reported with its reason, not thrown past the caller', async () => {
    const tf = await probeBackend('tensorflow');
    if (tf.available) {
      expect(await measureNodeBackend('tensorflow', 1)).toBeGreaterThan(0);
    } else {
      await expect(measureNodeBackend('tensorflow', 1)).rejects.toThrow(/tensorflow backend is not available/);
    }
  }, 120_000);

  it('without a compute window, auto is the Node choice and no probe runs', async () => {
    let measured = 0;
    const d = await decideAutoBackend({ computeHost: null, measureNode: async () => ++measured });
    expect(measured).toBe(0);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(d.backend);
    expect(d.reason.startsWith('auto: ')).toBe(true);
  });
});
