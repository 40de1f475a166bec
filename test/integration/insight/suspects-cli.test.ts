// `convnet suspects` on a run with three planted wrong labels (circles filed as squares): it scans in a
// worker, stores the scan, prints {imageId, path, label, predicted, score} most suspect first, and reuses
// the stored scan the second time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

let library: string;
let planted: string[];
let cleanup: () => void;
const cli = (args: string[]): string => execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args, '--library', library], { cwd: repoRoot, stdio: 'pipe' }).toString();

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 16, 48, 1, ['circle', 'square', 'hstripes']);
  planted = [0, 1, 2].map((i) => {
    const to = path.join(shapes, 'square', `circle-000${i}.png`);
    fs.renameSync(path.join(shapes, 'circle', `circle-000${i}.png`), to);
    return to;
  });
  library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  cli(['import', shapes, '--split', '100/0/0', '--json']);
  cli(['train', '--dataset', 'shapes', '--epochs', '2', '--batch-size', '8', '--json']);
}, 180_000);

afterAll(() => cleanup?.());

describe('convnet suspects', () => {
  it('ranks the planted wrong labels among the top suspects and stores the scan', () => {
    const items = JSON.parse(cli(['suspects', '--run', '1', '--folds', '2', '--epochs', '2', '--json'])) as Array<{ imageId: number; path: string; label: string; predicted: string; score: number }>;
    expect(items.length).toBeGreaterThan(0);
    expect(Object.keys(items[0]!).sort()).toEqual(['imageId', 'label', 'path', 'predicted', 'score']);
    items.forEach((it, i) => {
      expect(it.predicted).not.toBe(it.label);
      expect(it.score).toBeGreaterThan(0);
      expect(it.score).toBeLessThanOrEqual(1);
      if (i > 0) {
        expect(it.score).toBeLessThanOrEqual(items[i - 1]!.score);
      }
    });
    // Each planted image is a circle labelled square; at least one is among the five most suspect.
    const top = items.slice(0, 5);
    expect(top.some((it) => planted.includes(it.path) && it.label === 'square')).toBe(true);
    const db = new Database(path.join(library, 'library.sqlite'), { readonly: true });
    const scan = db.prepare('SELECT folds, epochs, images, disagreements FROM suspect_scans WHERE run_id = 1').get();
    const runs = db.prepare('SELECT COUNT(*) AS n FROM runs').get();
    db.close();
    expect(scan).toEqual({ folds: 2, epochs: 2, images: 48, disagreements: items.length });
    expect(runs).toEqual({ n: 1 });
    // Stored: the second call reads the same ranking without training.
    expect(JSON.parse(cli(['suspects', '--run', '1', '--limit', '3', '--json']))).toEqual(items.slice(0, 3));
  }, 240_000);

  it('says what is wrong with bad flags and unknown runs', () => {
    const fail = (args: string[]): string => {
      try {
        cli(args);
      } catch (err) {
        return String((err as { stderr: Buffer }).stderr);
      }
      throw new Error('expected a failure');
    };
    expect(fail(['suspects'])).toContain('--run ID is required.');
    expect(fail(['suspects', '--run', '1', '--folds', '1'])).toContain('--folds must be a whole number from 2 to 10, got "1".');
    expect(fail(['suspects', '--run', '99'])).toMatch(/run 99/i);
  });
});
