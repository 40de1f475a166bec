import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ApiError } from '../api/errors.js';
import { pkg } from '../version.js';
import { LAYERS_FILE, LAYERS_SOURCE } from './layers-source.js';
import { LABELS_FILE, PREPROCESSING_FILE, preprocessingFileOf, writeLayersModel, type PreprocessingFile } from './model-folder.js';
import { PREDICT_FILE, PREDICT_SOURCE } from './predict-script.js';
import type { ClassifierSpec } from './spec.js';

/** Makes sure `dir` can receive an export: created if absent, refused when it holds anything. */
export function prepareExportDir(dir: string): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) {
      throw new ApiError('conflict', `${dir} is a file; choose a new or empty folder for the export.`);
    }
    if (fs.readdirSync(dir).length > 0) {
      throw new ApiError('conflict', `${dir} is not empty; choose a new or empty folder for the export.`);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
}

/**
 * Writes a self-contained model folder: TF.js layers model (model.json + shards), labels.json,
 * preprocessing.json, convnet-layers.js (the two custom layers for plain tfjs), predict.mjs, package.json and README.md.
 * Returns the file names written. `dir` must exist and be empty.
 */
export function writeModelExport(dir: string, artifacts: tf.io.ModelArtifacts, spec: ClassifierSpec): string[] {
  const app = `${pkg.productName} ${pkg.version}`;
  const pre = preprocessingFileOf(spec, app);
  const files = writeLayersModel(dir, artifacts, app);
  const write = (name: string, text: string): void => {
    fs.writeFileSync(path.join(dir, name), text);
    files.push(name);
  };
  write(LABELS_FILE, JSON.stringify(spec.classes, null, 1) + '\n');
  write(PREPROCESSING_FILE, JSON.stringify(pre, null, 2) + '\n');
  write(LAYERS_FILE, LAYERS_SOURCE);
  write(PREDICT_FILE, PREDICT_SOURCE);
  // Marks the .js files here as ES modules wherever the folder is copied (Node reads the nearest package.json).
  write('package.json', JSON.stringify({ name: 'convnet-studio-model', private: true, type: 'module', description: `Image classifier exported by ${app}` }, null, 2) + '\n');
  write('README.md', readmeText(spec, pre, files));
  return files;
}

/** The README of an export: what is in it and how to load it in a browser or in Node. */
export function readmeText(spec: ClassifierSpec, pre: PreprocessingFile, files: string[]): string {
  const shards = files.filter((f) => f.endsWith('.bin'));
  const n = spec.inputSize;
  const r = spec.resizeSize;
  const classes = spec.classes.length > 12 ? `${spec.classes.slice(0, 12).join(', ')}, …` : spec.classes.join(', ');
  return `# ${spec.arch ?? 'ConvNet'} image classifier${spec.runId === null ? '' : ` (run ${spec.runId})`}

Exported by ${pre.source.app} on ${pre.source.exportedAt}. ${spec.classes.length} classes: ${classes}.

| file | what |
| --- | --- |
| \`model.json\`, ${shards.map((s) => `\`${s}\``).join(', ')} | TensorFlow.js layers model (topology + float32 weights) |
| \`labels.json\` | class names; index i is output i of the network |
| \`preprocessing.json\` | input size, resize/crop rule, channel order, mean and std |
| \`convnet-layers.js\` | the two custom layers the network uses (LocalResponseNormalization, GroupedConv2D) for plain tfjs |
| \`predict.mjs\` | a reference classifier for Node (sharp + tfjs) that follows preprocessing.json |

## Preprocessing (the app's rule; other pipelines will disagree with its predictions)

1. Decode the image (first frame), apply its EXIF orientation, flatten transparency onto black, convert to 8-bit sRGB.
2. Resize so the short side is **${r} px** and centre-crop **${r}×${r}** (libvips/sharp \`fit: 'cover'\`, lanczos3).
3. Take the centre **${n}×${n}** crop (offset ${Math.floor((r - n) / 2)} px in both axes).
4. RGB, NHWC, float32 on the 0–255 scale: \`x = (pixel − mean) / std\` with mean \`[${pre.mean.map((v) => v.toFixed(4)).join(', ')}]\` and std \`[${pre.std.map((v) => v.toFixed(4)).join(', ')}]\`.
5. The output is a softmax over the classes in \`labels.json\`. Optional ten-crop: average the outputs of the four corner and centre ${n}×${n} crops of the ${r}×${r} image and their mirrors.

A browser's canvas resizes with a different filter than libvips; for predictions identical to the app, resize
with sharp (Node) or feed images already at ${r}×${r}.

## Custom layers: register them before loading

\`model.json\` names two layer classes that TensorFlow.js does not have. \`tf.loadLayersModel\` fails with
"Unknown layer: LocalResponseNormalization" unless \`convnet-layers.js\` registered them first. It is an ES module with no
dependencies; it defines the layers on the tfjs you pass it.

### Browser

Serve this folder over HTTP (any static server), then:

\`\`\`html
<script type="module">
  import * as tf from 'https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4/dist/tf.fesm.min.js'; // or your bundled copy
  import { registerConvnetLayers } from './convnet-layers.js';
  registerConvnetLayers(tf);
  const model = await tf.loadLayersModel('./model.json');
  const labels = await (await fetch('./labels.json')).json();
  const pre = await (await fetch('./preprocessing.json')).json();
  // pixels: Uint8 RGB of the ${n}×${n} crop (see Preprocessing); x = (pixel - mean) / std
  const x = tf.tidy(() => tf.browser.fromPixels(canvas).cast('float32').sub(pre.mean).div(pre.std).expandDims(0));
  const probs = await model.predict(x).data();
</script>
\`\`\`

With tfjs loaded by a classic \`<script>\` tag (a global \`tf\`), \`<script type="module" src="convnet-layers.js">\` registers
the layers on it by itself.

### Node

\`\`\`js
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs'; // or '@tensorflow/tfjs-node' for native speed
import { registerConvnetLayers } from './convnet-layers.js';

registerConvnetLayers(tf);
const json = JSON.parse(fs.readFileSync('model.json', 'utf8'));
const weights = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(p)));
const model = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: json.modelTopology,
  weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
  weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
}));
\`\`\`

(With \`@tensorflow/tfjs-node\`, \`tf.loadLayersModel('file://' + path + '/model.json')\` reads the files itself.)
\`package.json\` here marks the \`.js\` files as ES modules; keep it beside \`convnet-layers.js\` if you copy the folder.

Or classify files directly, from a folder where \`@tensorflow/tfjs\` and \`sharp\` are installed:

\`\`\`sh
node path/to/this/folder/predict.mjs photo.jpg other.png --json
\`\`\`

ConvNet Studio checked, when it wrote this folder, that \`predict.mjs\` run in a fresh process agrees with the app on
held-out images. Import the folder into another ConvNet Studio library with \`convnet models import DIR\` (or the app).
`;
}
