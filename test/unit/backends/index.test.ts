import { describe, expect, it } from 'vitest';
import { activateBackend, chooseBackend, probeBackends } from '../../../src/backends/index.js';
import { tf } from '../../../src/backends/tf.js';

describe('backend choice', () => {
  it('probes tensorflow, wasm and cpu in the order auto prefers', async () => {
    const probes = await probeBackends();
    expect(probes.map((p) => p.name)).toEqual(['tensorflow', 'wasm', 'cpu']);
    for (const probe of probes) {
      expect(probe.reason.length).toBeGreaterThan(3);
    }
    expect(probes.find((p) => p.name === 'cpu')!.available).toBe(true);
  });

  it('auto picks the first available backend and says why', async () => {
    const probes = await probeBackends();
    const choice = await chooseBackend('auto');
    expect(choice.name).toBe(probes.find((p) => p.available)!.name);
    if (!probes[0]!.available) {
      expect(choice.reason).toMatch(/tensorflow unavailable/);
    }
  });

  it('refuses an unavailable explicit choice with the reason', async () => {
    const tensorflow = (await probeBackends())[0]!;
    if (tensorflow.available) {
      expect((await chooseBackend('tensorflow')).name).toBe('tensorflow');
    } else {
      await expect(chooseBackend('tensorflow')).rejects.toThrow(/tensorflow backend is not available/);
    }
  });

  it('activates wasm for real and computes on it', async () => {
    expect(await activateBackend('wasm')).toBe('wasm');
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(y).toBe(11);
    expect(await activateBackend('cpu')).toBe('cpu');
  });
});
