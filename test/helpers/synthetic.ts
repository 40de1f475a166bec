/**
 * A learnable synthetic image set: class c is a bright blob in one of `classes` positions on a noisy
 * background, with per-image jitter. Returns NHWC floats (mean-subtracted, roughly unit scale).
 */
export function syntheticBlobs(count: number, classes: number, size: number, seed = 1): { x: Float32Array; labels: Int32Array } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const x = new Float32Array(count * size * size * 3);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const c = n % classes;
    labels[n] = c;
    const angle = (2 * Math.PI * c) / classes;
    const cx = size / 2 + (size / 4) * Math.cos(angle) + (rand() - 0.5) * 2;
    const cy = size / 2 + (size / 4) * Math.sin(angle) + (rand() - 0.5) * 2;
    const r = size / 7;
    for (let y = 0; y < size; y++) {
      for (let xx = 0; xx < size; xx++) {
        const inside = (xx - cx) ** 2 + (y - cy) ** 2 < r * r ? 1 : 0;
        for (let ch = 0; ch < 3; ch++) {
          x[((n * size + y) * size + xx) * 3 + ch] = inside * 1.5 - 0.3 + (rand() - 0.5) * 0.4;
        }
      }
    }
  }
  return { x, labels };
}
