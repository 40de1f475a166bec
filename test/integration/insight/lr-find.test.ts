// `convnet lr-find` on a real library: prints the suggestion and the curve, and changes nothing but its own
// record (no run, no epochs, no snapshot rows, images untouched).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

let library: string;
let cleanup: () => void;
const cli = (args: string[]): string => execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args, '--library', library], { cwd: repoRoot, stdio: 'pipe' }).toString();

function state(): Record<string, unknown> {
  const db = new Database(path.join(library, 'library.sqlite'), { readonly: true });
  try {
    return {
      runs: db.prepare('SELECT * FROM runs').all(),
      epochs: db.prepare('SELECT * FROM epochs').all(),
      runImages: db.prepare('SELECT COUNT(*) AS n FROM run_images').get(),
      images: db.prepare('SELECT * FROM images ORDER BY id').all(),
      classes: db.prepare('SELECT * FROM classes ORDER BY id').all(),
    };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  await writeShapesDataset(path.join(t.dir, 'shapes'), 16, 32, 1, ['circle', 'square']);
  cli(['import', path.join(t.dir, 'shapes'), '--json']);
}, 60_000);

afterAll(() => cleanup?.());

describe('convnet lr-find', () => {
  it('prints {suggested, curve} and leaves runs, epochs and images as they were', () => {
    const before = state();
    const out = JSON.parse(cli(['lr-find', '--dataset', 'shapes', '--batch-size', '8', '--steps', '40', '--json'])) as {
      suggested: number | null;
      curve: Array<{ lr: number; loss: number; smoothed: number }>;
    };
    expect(out.curve.length).toBeGreaterThan(10);
    expect(out.curve[0]!.lr).toBeCloseTo(1e-5, 12);
    // Exponentially growing rates: a constant ratio between steps.
    const ratio = out.curve[1]!.lr / out.curve[0]!.lr;
    expect(out.curve[10]!.lr / out.curve[9]!.lr).toBeCloseTo(ratio, 8);
    expect(out.curve.every((p) => Number.isFinite(p.loss) && p.loss > 0)).toBe(true);
    if (out.suggested !== null) {
      expect(out.suggested).toBeGreaterThan(1e-5 / 10);
      expect(out.suggested).toBeLessThan(1);
    }
    expect(state()).toEqual(before);
    const db = new Database(path.join(library, 'library.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT dataset_id, suggested, curve FROM lr_finds').all() as Array<{ dataset_id: number; suggested: number | null; curve: string }>;
    db.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.suggested).toBe(out.suggested);
    expect(JSON.parse(rows[0]!.curve)).toEqual(out.curve);
  }, 180_000);
});
