import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { LAYERS_FILE, LAYERS_SOURCE } from '../../../src/classify/layers-source.js';
import { writeLayersModel } from '../../../src/classify/model-folder.js';
import { GroupedConv2D, LocalResponseNormalization } from '../../../src/model/index.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

const t = tempDir();
afterAll(() => t.cleanup());

const INPUT = 'Float32Array.from({ length: 2 * 9 * 9 * 4 }, (_, i) => Math.sin(i * 0.37) * 3)';

describe('convnet-layers.js', () => {
  it('computes in a fresh process with plain tfjs what the app layers compute (two-tower grouped conv, LRN)', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({
      layers: [
        new GroupedConv2D({ inputShape: [9, 9, 4], name: 'g1', filters: 6, kernelSize: 3, strides: 2, padding: 'same', groups: 2, init: 'he', paperBias: 1 }),
        new LocalResponseNormalization({ name: 'lrn', depthRadius: 2, bias: 2, alpha: 1e-2, beta: 0.75 }),
        new GroupedConv2D({ name: 'g2', filters: 4, kernelSize: 2, padding: 'valid', groups: 2, activation: 'linear', init: 'he' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    // Non-trivial biases, so a bias mix-up between towers would show.
    for (const layer of [model.layers[0]!, model.layers[2]!]) {
      const [kernel, bias] = layer.getWeights();
      layer.setWeights([kernel!, tf.range(0, bias!.shape[0]!).mul(0.1)]);
    }
    let artifacts: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    writeLayersModel(t.dir, artifacts!, 'test');
    fs.writeFileSync(path.join(t.dir, LAYERS_FILE), LAYERS_SOURCE);
    fs.writeFileSync(path.join(t.dir, 'package.json'), '{"type":"module"}');
    const expected = Array.from(await (model.predict(tf.tensor4d(eval(INPUT) as Float32Array, [2, 9, 9, 4])) as tf.Tensor).data());

    const script = `
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerConvnetLayers } from ${JSON.stringify(pathToFileURL(path.join(t.dir, LAYERS_FILE)).href)};
registerConvnetLayers(tf);
registerConvnetLayers(tf); // twice is harmless
const dir = ${JSON.stringify(t.dir)};
const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
const w = fs.readFileSync(path.join(dir, json.weightsManifest[0].paths[0]));
const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
  weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
process.stdout.write(JSON.stringify(Array.from(await model.predict(tf.tensor4d(${INPUT}, [2, 9, 9, 4])).data())));
`;
    const fresh = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(fresh.status, fresh.stderr).toBe(0);
    const got = JSON.parse(fresh.stdout) as number[];
    expect(got).toHaveLength(6);
    got.forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-6));
    expect(new Set(expected.map((p) => p.toFixed(3))).size).toBeGreaterThan(2);
  });
});
