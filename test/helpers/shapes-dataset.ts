import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** The ten procedurally drawn classes: shapes and textures a small convnet can tell apart. */
export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'hstripes', 'vstripes', 'checker', 'cross', 'ring', 'diagonal', 'dots'] as const;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Whether pixel (x, y) is foreground for a class, given a centre, a radius and a period. */
function inside(cls: string, x: number, y: number, cx: number, cy: number, r: number, period: number): boolean {
  const dx = x - cx;
  const dy = y - cy;
  switch (cls) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
    case 'triangle':
      return dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= (dy + r) * 0.6;
    case 'hstripes':
      return Math.floor(y / period) % 2 === 0;
    case 'vstripes':
      return Math.floor(x / period) % 2 === 0;
    case 'checker':
      return (Math.floor(x / period) + Math.floor(y / period)) % 2 === 0;
    case 'cross':
      return (Math.abs(dx) <= r * 0.25 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.25 && Math.abs(dx) <= r);
    case 'ring': {
      const d = Math.sqrt(dx * dx + dy * dy);
      return d <= r && d >= r * 0.6;
    }
    case 'diagonal':
      return Math.floor((x + y) / period) % 2 === 0;
    case 'dots':
      return ((x % (period * 2)) - period) ** 2 + ((y % (period * 2)) - period) ** 2 <= (period * 0.6) ** 2;
    default:
      return false;
  }
}

/** Draws one RGB image of a class with random colours, position, size and noise. */
export function drawShape(cls: string, size: number, seed: number): Buffer {
  const rand = rng(seed);
  const fg = [rand() * 255, rand() * 255, rand() * 255];
  // Keep contrast: the background is the foreground's opposite, jittered.
  const bg = fg.map((c) => (255 - c) * 0.8 + rand() * 40);
  const cx = size / 2 + (rand() - 0.5) * size * 0.3;
  const cy = size / 2 + (rand() - 0.5) * size * 0.3;
  const r = size * (0.22 + rand() * 0.12);
  const period = Math.max(2, Math.round(size / (6 + rand() * 4)));
  const out = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = inside(cls, x, y, cx, cy, r, period);
      for (let c = 0; c < 3; c++) {
        const v = (on ? fg[c]! : bg[c]!) + (rand() - 0.5) * 30;
        out[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

/** Writes `perClass` PNGs of each shape class into `root/<class>/`; returns the class names. */
export async function writeShapesDataset(root: string, perClass: number, size = 32, seed = 1, classes: readonly string[] = SHAPE_CLASSES): Promise<string[]> {
  for (const [ci, cls] of classes.entries()) {
    const dir = path.join(root, cls);
    fs.mkdirSync(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: perClass }, (_, i) =>
        sharp(drawShape(cls, size, seed * 100_003 + ci * 10_007 + i), { raw: { width: size, height: size, channels: 3 } })
          .png()
          .toFile(path.join(dir, `${cls}-${String(i).padStart(4, '0')}.png`)),
      ),
    );
  }
  return [...classes];
}
