// The text of `predict.mjs`, shipped in every exported model folder: a reference classifier for Node that follows
// preprocessing.json with sharp and plain tfjs. The export's parity check runs exactly this file in a fresh process.

/** File name of the Node reference classifier in an export. */
export const PREDICT_FILE = 'predict.mjs';

/** Node ES module source of the reference classifier. */
export const PREDICT_SOURCE = String.raw`#!/usr/bin/env node
// Classifies image files with this exported ConvNet Studio model, in Node, following preprocessing.json.
// Run it from a folder where @tensorflow/tfjs and sharp are installed (npm install @tensorflow/tfjs sharp):
//
//   node /path/to/this/folder/predict.mjs photo.jpg more/*.png [--top 5] [--ten-crop] [--json] [--probs]
//                                         [--backend cpu|wasm|tensorflow] [--batch-size 32]
//
// --json prints one JSON object per image and line: {"path","predictions":[{"label","probability"}]} or {"path","error"};
// --probs adds "probabilities" (every class, in labels.json order). --backend wasm needs @tensorflow/tfjs-backend-wasm,
// --backend tensorflow needs @tensorflow/tfjs-node (both much faster than the default cpu backend).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.cwd(), 'noop.js'));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '5' },
    'ten-crop': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    probs: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'cpu' },
    'batch-size': { type: 'string', default: '32' },
  },
});

const tf = require('@tensorflow/tfjs');
const sharp = require('sharp');
if (values.backend === 'wasm') {
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
} else if (values.backend === 'tensorflow') {
  require('@tensorflow/tfjs-node');
}
if (!(await tf.setBackend(values.backend))) {
  throw new Error('tfjs backend ' + values.backend + ' is not available');
}
await tf.ready();

const readJson = (name) => JSON.parse(fs.readFileSync(path.join(here, name), 'utf8'));
const modelJson = readJson('model.json');
const labels = readJson('labels.json');
const pre = readJson('preprocessing.json');
const { registerConvnetLayers } = await import(pathToFileURL(path.join(here, 'convnet-layers.js')).href);
registerConvnetLayers(tf);
const shards = modelJson.weightsManifest.flatMap((group) => group.paths).map((p) => fs.readFileSync(path.join(here, p)));
const weights = Buffer.concat(shards);
const model = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }),
);

const R = pre.resizeSize;
const N = pre.inputSize;
const C = labels.length;

// Decode: first frame, EXIF orientation, alpha onto black, 8-bit sRGB, short side to R, centre crop R x R.
async function decode(file) {
  const { data, info } = await sharp(file, { failOn: 'error', pages: 1 })
    .autoOrient()
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .resize(R, R, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 3) {
    return data;
  }
  const rgb = Buffer.alloc(R * R * 3);
  for (let p = 0; p < R * R; p++) {
    for (let c = 0; c < 3; c++) {
      rgb[p * 3 + c] = data[p * info.channels + (info.channels < 3 ? 0 : c)];
    }
  }
  return rgb;
}

// The centre view, or the ten views of the paper (four corners and centre, then the same five mirrored).
function views() {
  const m = Math.floor((R - N) / 2);
  const centre = { y: m, x: m };
  if (!values['ten-crop']) {
    return [{ ...centre, flip: false }];
  }
  const five = [{ y: 0, x: 0 }, { y: 0, x: R - N }, { y: R - N, x: 0 }, { y: R - N, x: R - N }, centre];
  return [...five.map((v) => ({ ...v, flip: false })), ...five.map((v) => ({ ...v, flip: true }))];
}

// x = (pixel - mean) / std, written as pixel * (1 / std) + (-mean / std) like the app does.
function writeView(src, view, out, offset) {
  const mul = pre.std.map((s) => 1 / s);
  const add = pre.mean.map((m, c) => -m / pre.std[c]);
  for (let r = 0; r < N; r++) {
    for (let col = 0; col < N; col++) {
      const sx = view.x + (view.flip ? N - 1 - col : col);
      const s = ((view.y + r) * R + sx) * 3;
      const d = offset + (r * N + col) * 3;
      for (let c = 0; c < 3; c++) {
        out[d + c] = src[s + c] * mul[c] + add[c];
      }
    }
  }
}

const top = Math.max(1, Number(values.top));
const batchSize = Math.max(1, Number(values['batch-size']));
const viewList = views();
const V = viewList.length;

function print(file, probs) {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b).slice(0, top);
  const predictions = order.map((i) => ({ label: labels[i], probability: probs[i] }));
  if (values.json) {
    process.stdout.write(JSON.stringify({ path: file, predictions, ...(values.probs ? { probabilities: Array.from(probs) } : {}) }) + '\n');
  } else {
    process.stdout.write(file + '\t' + predictions.map((p) => p.label + ' ' + (100 * p.probability).toFixed(1) + '%').join(', ') + '\n');
  }
}

function fail(file, err) {
  const message = String(err && err.message ? err.message : err).split('\n')[0];
  process.stdout.write(values.json ? JSON.stringify({ path: file, error: message }) + '\n' : file + '\terror: ' + message + '\n');
}

for (let start = 0; start < positionals.length; start += batchSize) {
  const files = positionals.slice(start, start + batchSize);
  const decoded = await Promise.all(files.map((f) => decode(f).then((d) => ({ ok: true, d }), (e) => ({ ok: false, e }))));
  const good = files.map((f, i) => ({ f, r: decoded[i] })).filter((x) => x.r.ok);
  files.forEach((f, i) => decoded[i].ok || fail(f, decoded[i].e));
  if (good.length === 0) {
    continue;
  }
  const x = new Float32Array(good.length * V * N * N * 3);
  good.forEach((g, i) => viewList.forEach((view, v) => writeView(g.r.d, view, x, (i * V + v) * N * N * 3)));
  const probs = tf.tidy(() => {
    const p = model.predict(tf.tensor4d(x, [good.length * V, N, N, 3]));
    return V > 1 ? p.reshape([good.length, V, C]).mean(1) : p;
  });
  const values2d = await probs.data();
  probs.dispose();
  good.forEach((g, i) => print(g.f, values2d.slice(i * C, (i + 1) * C)));
}
`;
