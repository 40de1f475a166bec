import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assembleBatch, type AssemblyConfig, type RecordReader } from '../../../src/images/batch-assembly.js';
import { Rng } from '../../../src/images/prng.js';
import { expandPaths } from '../../../src/classify/expand.js';
import * as tf from '@tensorflow/tfjs';
import { checkedClassifier } from '../../../src/classify/load.js';
import { classifyViews, inputBatch, predictProbabilities, topPredictions } from '../../../src/classify/pipeline.js';
import type { ClassifierSpec } from '../../../src/classify/spec.js';
import { tempDir } from '../../helpers/temp.js';
import { tinyPng } from '../../helpers/library-folder.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const spec: ClassifierSpec = { classes: ['a', 'b', 'c'], inputSize: 8, resizeSize: 10, norm: { mean: [120, 110, 100], std: [50, 60, 70] }, arch: null, runId: null };

/** Two 10×10 RGB records with distinct pixels. */
function records(): Uint8Array[] {
  return [0, 1].map((k) => Uint8Array.from({ length: 10 * 10 * 3 }, (_, i) => (i * 37 + k * 101) % 256));
}

describe('classification input', () => {
  it.each([false, true])('equals what evaluation feeds the network (tenCrop %s)', (tenCrop) => {
    const recs = records();
    const reader: RecordReader = { packSize: 10, recordBytes: 300, read: (i) => recs[i]! };
    const config: AssemblyConfig = { inputSize: 8, train: false, augment: { crop: false, flip: false, pca: null }, norm: spec.norm, evalViews: tenCrop ? 'ten-crop' : 'center' };
    const evaluation = assembleBatch(reader, [0, 1], config, Rng.fromSeed(1));
    const views = classifyViews(spec, tenCrop);
    expect(views).toHaveLength(evaluation.views);
    expect(inputBatch(spec, recs, views)).toEqual(evaluation.x);
  });

  it('ranks classes by probability, lower index first on ties, at most as many as there are classes', () => {
    expect(topPredictions([0.2, 0.5, 0.3], spec.classes, 2)).toEqual([{ label: 'b', probability: 0.5 }, { label: 'c', probability: 0.3 }]);
    expect(topPredictions([0.4, 0.2, 0.4], spec.classes, 5).map((p) => p.label)).toEqual(['a', 'c', 'b']);
  });
});

describe('a network whose outputs are not one per class', () => {
  /** 8×8 RGB → 4 softmax outputs: one more than spec.classes. */
  const fourOutputs = (): tf.LayersModel =>
    tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8, 3] }), tf.layers.dense({ units: 4, activation: 'softmax' })] });

  it('is refused when loaded, with the counts', () => {
    expect(() => checkedClassifier(fourOutputs(), spec, '/models/x')).toThrow(
      'The model in /models/x cannot classify: the network outputs [[null,4]] but there are 3 class names.',
    );
    expect(() => checkedClassifier(fourOutputs(), { ...spec, classes: ['a', 'b', 'c', 'd'], inputSize: 16 }, '/models/x')).toThrow(/takes inputs \[null,8,8,3\] but the preprocessing crops 16×16/);
  });

  it('makes predictProbabilities fail instead of slicing 3 images at the wrong stride', async () => {
    const model = fourOutputs();
    const x = inputBatch(spec, [...records(), records()[0]!], classifyViews(spec, false));
    await expect(predictProbabilities({ model, spec }, x, 3, 1)).rejects.toThrow(/answered \[3,4\] for 3 views of 3 classes/);
    model.dispose();
  });
});

describe('expandPaths', () => {
  it('walks folders in sorted order, takes image files, lists other files and missing paths', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const root = path.join(t.dir, 'photos');
    fs.mkdirSync(path.join(root, 'b-sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'z.png'), tinyPng(1));
    fs.writeFileSync(path.join(root, 'a.JPG'), tinyPng(2));
    fs.writeFileSync(path.join(root, 'b-sub', 'c.webp'), tinyPng(3));
    fs.writeFileSync(path.join(root, '.hidden.png'), tinyPng(4));
    fs.writeFileSync(path.join(root, 'Thumbs.db'), 'x');
    fs.writeFileSync(path.join(root, 'readme.md'), '# hi');
    const loose = path.join(t.dir, 'loose.dat');
    fs.writeFileSync(loose, tinyPng(5));
    const { files, errors } = await expandPaths([root, loose, path.join(t.dir, 'gone.png'), 'relative.png', path.join(root, 'z.png')]);
    expect(files).toEqual([path.join(root, 'a.JPG'), path.join(root, 'b-sub', 'c.webp'), path.join(root, 'z.png'), loose]);
    expect(errors).toEqual([
      { path: path.join(root, 'readme.md'), kind: 'not-image', reason: 'not an image file (.md)' },
      { path: path.join(t.dir, 'gone.png'), kind: 'unreadable', reason: 'unreadable: no such file or folder' },
      { path: 'relative.png', kind: 'bad-name', reason: 'not an absolute path' },
    ]);
  });
});
