// The augmentation preview's grid: training views from the loader's batch assembly with the normalisation
// undone. Without augmentation every view of an image is its centre crop, in the packed image's colours;
// with crops, mirrors and lighting the views differ.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainConfig } from '../../../src/api/runs.js';
import { writeAugmentPreview } from '../../../src/insight/augment-preview.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

let dir: string;
let library: string;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  ({ dir, cleanup } = t);
  library = path.join(dir, 'library');
  fs.mkdirSync(library);
  await writeShapesDataset(path.join(dir, 'shapes'), 8, 40, 1, ['circle', 'square']);
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'import', path.join(dir, 'shapes'), '--library', library, '--json'], { cwd: repoRoot, stdio: 'pipe' });
}, 60_000);

afterAll(() => cleanup?.());

/** The tiles of one row of the grid, as raw RGB. */
async function rowTiles(file: string, preview: { tile: number; gap: number; columns: number }, row: number): Promise<Buffer[]> {
  const tiles: Buffer[] = [];
  for (let c = 0; c < preview.columns; c++) {
    const left = c === 0 ? 0 : c * (preview.tile + preview.gap) + preview.gap * 2;
    tiles.push(await sharp(file).extract({ left, top: row * (preview.tile + preview.gap), width: preview.tile, height: preview.tile }).removeAlpha().raw().toBuffer());
  }
  return tiles;
}

const mean = (b: Buffer): number => b.reduce((a, v) => a + v, 0) / b.length;

/** Mean of the square of a tile where the centre crop of the packed image lies. */
function centreMean(packed: Buffer, tile: number, packSize: number, inputSize: number): number {
  const from = Math.ceil((((packSize - inputSize) / 2) * tile) / packSize);
  const to = Math.floor((((packSize + inputSize) / 2) * tile) / packSize);
  let sum = 0;
  let n = 0;
  for (let y = from; y < to; y++) {
    for (let x = from * 3; x < to * 3; x++) {
      sum += packed[y * tile * 3 + x]!;
      n++;
    }
  }
  return sum / n;
}

describe('augmentation preview', () => {
  it('shows plain centre crops in the original colours without augmentation, and varied views with it', async () => {
    const db = new Database(path.join(library, 'library.sqlite'));
    try {
      const plainFile = path.join(dir, 'plain.png');
      const plain = await writeAugmentPreview(db, library, { config: TrainConfig.parse({ datasetId: 1, augment: { crop: false, flip: false, pca: false } }), images: 2, variants: 3, file: plainFile });
      expect(plain.rows.map((r) => r.className)).toEqual(['circle', 'square']);
      expect(plain.columns).toBe(4);
      for (const row of [0, 1]) {
        const [packed, ...views] = await rowTiles(plainFile, plain, row);
        expect(views[1]!.equals(views[0]!)).toBe(true);
        expect(views[2]!.equals(views[0]!)).toBe(true);
        // Mean subtraction undone: the view has the packed image's brightness, not a mean-centred near-black.
        expect(Math.abs(mean(views[0]!) - centreMean(packed!, plain.tile, plain.packSize, plain.inputSize))).toBeLessThan(3);
      }
      const augFile = path.join(dir, 'augmented.png');
      const augmented = await writeAugmentPreview(db, library, { config: TrainConfig.parse({ datasetId: 1, augment: { pcaSigma: 0.5 } }), images: 2, variants: 3, file: augFile });
      const [, a, b, c] = await rowTiles(augFile, augmented, 0);
      expect(a!.equals(b!) && b!.equals(c!)).toBe(false);
    } finally {
      db.close();
    }
  });
});
