// Figure 10's data: the ten procedural shape classes for the parent, and five new classes (ellipse, hollow square,
// x, half disc, grid) for the fine-tuned run, drawn the same way; every image from its own hashed seed.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { hashSeed } from '../src/images/prng.js';
import { drawShape, SHAPE_CLASSES } from '../test/helpers/shapes-dataset.js';

/** The classes the parent never saw. */
export const NEW_CLASSES = ['ellipse', 'hollow-square', 'x', 'half-disc', 'grid'] as const;

function insideNew(cls: string, x: number, y: number, cx: number, cy: number, r: number, period: number): boolean {
  const dx = x - cx;
  const dy = y - cy;
  const ring = Math.max(Math.abs(dx), Math.abs(dy));
  switch (cls) {
    case 'ellipse':
      return (dx * dx) / (r * r) + (dy * dy) / (r * r * 0.25) <= 1;
    case 'hollow-square':
      return ring <= r && ring >= r * 0.6;
    case 'x':
      return (Math.abs(dx - dy) <= r * 0.3 || Math.abs(dx + dy) <= r * 0.3) && ring <= r;
    case 'half-disc':
      return dx * dx + dy * dy <= r * r && dy >= 0;
    default:
      return x % period === 0 || y % period === 0;
  }
}

/** One RGB image of a new class: random colours, position, size and noise, as drawShape draws the old ones. */
export function drawNewShape(cls: string, size: number, seed: number): Buffer {
  let s = hashSeed(seed, cls)[0];
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  const fg = [rand() * 255, rand() * 255, rand() * 255];
  const bg = fg.map((c) => (255 - c) * 0.8 + rand() * 40);
  const cx = size / 2 + (rand() - 0.5) * size * 0.3;
  const cy = size / 2 + (rand() - 0.5) * size * 0.3;
  const r = size * (0.22 + rand() * 0.12);
  const period = Math.max(3, Math.round(size / (5 + rand() * 4)));
  const out = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = insideNew(cls, x, y, cx, cy, r, period);
      for (let c = 0; c < 3; c++) {
        out[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round((on ? fg[c]! : bg[c]!) + (rand() - 0.5) * 30)));
      }
    }
  }
  return out;
}

async function writeClasses(root: string, classes: readonly string[], perClass: number, seed: number, draw: (cls: string, size: number, seed: number) => Buffer): Promise<void> {
  for (const cls of classes) {
    fs.mkdirSync(path.join(root, cls), { recursive: true });
    await Promise.all(
      Array.from({ length: perClass }, (_, i) =>
        sharp(draw(cls, 32, hashSeed(seed, cls, i)[0]), { raw: { width: 32, height: 32, channels: 3 } })
          .png()
          .toFile(path.join(root, cls, `${cls}-${i}.png`)),
      ),
    );
  }
}

/** `root/parent/<10 classes>/` (60 images each) and `root/child/{train,val}/<5 new classes>/` (10 and 40 each). */
export async function writeFineTuneData(root: string): Promise<{ parent: string; child: string }> {
  await writeClasses(path.join(root, 'parent'), SHAPE_CLASSES, 60, 1, drawShape);
  await writeClasses(path.join(root, 'child', 'train'), NEW_CLASSES, 10, 2, drawNewShape);
  await writeClasses(path.join(root, 'child', 'val'), NEW_CLASSES, 40, 3, drawNewShape);
  return { parent: path.join(root, 'parent'), child: path.join(root, 'child') };
}
