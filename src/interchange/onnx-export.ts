// A run's model as one .onnx file following the convention agreed with the importer (docs: ONNX section of
// the README): input `input` NCHW RGB preprocessed, output `probabilities`, opset 13, ir_version 8, and the
// preprocessing, labels and architecture in metadata_props so another program needs nothing else.
import fs from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import type { ClassifierSpec } from '../classify/spec.js';
import type { ModelLocation } from '../classify/load.js';
import { classifyFiles } from '../classify/pipeline.js';
import { specFromCheckpoint } from '../classify/spec.js';
import type { ExportReply } from '../classify/worker-messages.js';
import { loadCheckpoint, modelFromCheckpoint } from '../runs/checkpoint.js';
import { pkg } from '../version.js';
import { ONNX_INPUT, ONNX_OUTPUT, onnxGraphOf } from './onnx-graph.js';
import { runOnnxOnFiles } from './onnx-parity.js';
import { OnnxDataType, encodeOnnxModel, type OnnxModel } from './onnx-proto.js';

/** The operator set the files are written for (default domain). */
export const ONNX_OPSET = 13;
/** ONNX IR version of the files (the one that goes with opset 13-15). */
export const ONNX_IR_VERSION = 8;

/** What an ONNX export answers: the file's size and opset, and the app's and ONNX Runtime's probabilities of the sample. */
export interface OnnxExportReply {
  bytes: number;
  opset: number;
  backend: string;
  sample: ExportReply['sample'];
  onnx: ExportReply['sample'];
}

/** The preprocessing a consumer of the file follows, as stored in `convnet.preprocessing`. */
export interface OnnxPreprocessing {
  resizeSize: number;
  inputSize: number;
  channelOrder: 'RGB';
  layout: 'NCHW';
  pixelScale: 255;
  mean: [number, number, number];
  std: [number, number, number] | null;
}

/** The `convnet.preprocessing` object of a classifier. */
export function onnxPreprocessingOf(spec: ClassifierSpec): OnnxPreprocessing {
  return {
    resizeSize: spec.resizeSize,
    inputSize: spec.inputSize,
    channelOrder: 'RGB',
    layout: 'NCHW',
    pixelScale: 255,
    mean: spec.norm.mean,
    std: spec.norm.std ?? null,
  };
}

/** The whole ONNX model of a network and its classifier spec (labels, preprocessing, arch, run). */
export function onnxModelOf(model: tf.LayersModel, spec: ClassifierSpec): OnnxModel {
  const { nodes, initializers, classes } = onnxGraphOf(model, spec.inputSize);
  if (classes !== spec.classes.length) {
    throw new Error(`The network has ${classes} outputs but the run has ${spec.classes.length} classes.`);
  }
  const tensorType = (dims: Array<number | string>) => ({
    tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } },
  });
  const pre = onnxPreprocessingOf(spec);
  const n = spec.inputSize;
  return {
    irVersion: ONNX_IR_VERSION,
    producerName: pkg.productName,
    producerVersion: pkg.version,
    domain: 'org.convnetstudio',
    modelVersion: 1,
    docString:
      `${spec.arch ?? 'ConvNet'} image classifier${spec.runId === null ? '' : ` (run ${spec.runId})`}, ${spec.classes.length} classes. ` +
      `Input: RGB, NCHW, float32 [N, 3, ${n}, ${n}]: resize the short side to ${pre.resizeSize}, centre-crop ${n}×${n}, ` +
      `pixels 0-255 minus mean ${JSON.stringify(pre.mean)}${pre.std ? `, divided by std ${JSON.stringify(pre.std)}` : ''}. Output: softmax probabilities.`,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: [
      { key: 'convnet.arch', value: spec.arch ?? '' },
      { key: 'convnet.labels', value: JSON.stringify(spec.classes) },
      { key: 'convnet.preprocessing', value: JSON.stringify(pre) },
      { key: 'convnet.run', value: spec.runId === null ? '' : String(spec.runId) },
      { key: 'convnet.version', value: pkg.version },
    ],
    graph: {
      name: spec.arch ?? 'convnet',
      node: nodes,
      initializer: initializers,
      input: [{ name: ONNX_INPUT, type: tensorType(['batch', 3, n, n]) }],
      output: [{ name: ONNX_OUTPUT, type: tensorType(['batch', classes]) }],
    },
  };
}

/**
 * Worker task: writes the ONNX file of a run's latest checkpoint to `outFile`, classifies the parity sample with
 * the app's own pipeline and runs ONNX Runtime on the file read back from disk (preprocessing from its metadata).
 */
export async function exportRunOnnx(location: ModelLocation, outFile: string, sample: string[], backend: string): Promise<OnnxExportReply> {
  if (location.kind !== 'run') {
    throw new Error('Only a run can be exported.');
  }
  const checkpoint = loadCheckpoint(location.runDir);
  if (!checkpoint) {
    throw new Error('This run has no checkpoint yet: it has not finished an epoch.');
  }
  const model = await modelFromCheckpoint(checkpoint);
  const spec = specFromCheckpoint(checkpoint.meta);
  try {
    const bytes = encodeOnnxModel(onnxModelOf(model, spec));
    fs.writeFileSync(outFile, bytes);
    const reply: OnnxExportReply = { bytes: bytes.byteLength, opset: ONNX_OPSET, backend, sample: [], onnx: [] };
    await classifyFiles({ model, spec }, sample, { topK: 1, tenCrop: false }, (report) => {
      report.items.forEach((item, i) => reply.sample.push({ path: item.path, probabilities: Array.from(report.probabilities[i]!) }));
      report.errors.forEach((e) => reply.sample.push({ path: e.path, error: e.reason }));
    });
    reply.onnx = await runOnnxOnFiles(outFile, sample);
    return reply;
  } finally {
    model.dispose();
  }
}
