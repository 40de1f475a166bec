// Conversions between a network + optimizer and the buffers a ComputeCheckpoint carries. Pure tfjs,
// so the compute page and Node both use them; the files on disk stay checkpoint.ts' format.
import * as tf from '@tensorflow/tfjs';
import type { ComputeCheckpoint } from './protocol.js';
import type { LoopPosition } from '../loop.js';
import type { SgdState } from '../sgd.js';

/** Captures a model's topology and weights and the optimizer's momentum as transferable buffers. */
export async function captureCheckpoint(model: tf.LayersModel, sgd: SgdState, position: LoopPosition): Promise<ComputeCheckpoint> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const artifacts = captured as tf.io.ModelArtifacts | null;
  if (!artifacts?.weightSpecs || artifacts.weightData === undefined) {
    throw new Error('The network could not be serialised for a checkpoint.');
  }
  return {
    modelTopology: artifacts.modelTopology,
    weightSpecs: artifacts.weightSpecs.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype })),
    weightData: joinBuffers(artifacts.weightData),
    optimizer: {
      step: sgd.step,
      tensors: Object.entries(sgd.momentum).map(([key, t]) => ({ key, shape: t.shape, values: ownBuffer(t.values) })),
    },
    position,
  };
}

/** The model artifacts of a checkpoint, for tf.loadLayersModel(tf.io.fromMemory(…)). */
export function artifactsOf(cp: ComputeCheckpoint): tf.io.ModelArtifacts {
  return {
    modelTopology: cp.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: cp.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: cp.weightData,
  };
}

/** The optimizer state of a checkpoint. */
export function sgdStateOf(cp: ComputeCheckpoint): SgdState {
  const momentum: SgdState['momentum'] = {};
  for (const t of cp.optimizer.tensors) {
    momentum[t.key] = { shape: t.shape, values: new Float32Array(t.values) };
  }
  return { step: cp.optimizer.step, momentum };
}

/** A checkpoint from loaded parts (checkpoint.ts' LoadedCheckpoint), buffers copied so they can be transferred. */
export function toComputeCheckpoint(artifacts: tf.io.ModelArtifacts, sgd: SgdState, position: LoopPosition): ComputeCheckpoint {
  if (!artifacts.weightSpecs || artifacts.weightData === undefined) {
    throw new Error('The checkpoint has no weights.');
  }
  return {
    modelTopology: artifacts.modelTopology,
    weightSpecs: artifacts.weightSpecs.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype })),
    weightData: joinBuffers(artifacts.weightData).slice(0),
    optimizer: { step: sgd.step, tensors: Object.entries(sgd.momentum).map(([key, t]) => ({ key, shape: t.shape, values: t.values.slice().buffer as ArrayBuffer })) },
    position,
  };
}

function joinBuffers(data: ArrayBuffer | ArrayBuffer[]): ArrayBuffer {
  if (!Array.isArray(data)) {
    return data;
  }
  const out = new Uint8Array(data.reduce((a, b) => a + b.byteLength, 0));
  let o = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}

// Always a copy: on the cpu backend data() can hand out a variable's own storage, which a transfer would detach.
function ownBuffer(values: Float32Array): ArrayBuffer {
  return values.slice().buffer as ArrayBuffer;
}
