import * as tf from '@tensorflow/tfjs';
import '../model/index.js'; // registers LocalResponseNormalization and GroupedConv2D
import { writeModelExport } from '../classify/export-folder.js';
import type { ClassifierSpec } from '../classify/spec.js';
import { buildFromSpecs } from '../model/build.js';
import type { ArchName } from '../model/index.js';
import { describeTopology, type LayerSpec } from '../model/layer-spec.js';

/** A network read from a foreign file, already in our terms: topology as data, weights in tfjs layouts, the input rule. */
export interface ImportedNetwork {
  arch: ArchName;
  specs: LayerSpec[];
  /** Kernel (tfjs layout: conv [kH, kW, I/groups, O], dense [in, out]) and bias of every conv and dense layer, by layer name. */
  weights: Map<string, [Float32Array, Float32Array]>;
  spec: ClassifierSpec;
  /** What the file was, in words (e.g. "torchvision AlexNet state_dict"). */
  format: string;
}

/** Parameters of a network's topology at its input size. */
export function parameterCount(net: Pick<ImportedNetwork, 'specs' | 'spec'>): number {
  return describeTopology(net.specs, net.spec.inputSize).reduce((a, r) => a + r.params, 0);
}

/**
 * Builds the tfjs model of an imported network and sets its weights, each checked against the layer's own shapes
 * (a mismatch names the layer). The caller disposes the model.
 */
export function buildImported(net: ImportedNetwork): tf.LayersModel {
  const model = buildFromSpecs(net.arch, net.specs, net.spec.inputSize, 'he');
  try {
    for (const layer of model.layers) {
      const own = layer.weights.map((w) => ({ shape: w.shape, size: w.shape.reduce((a: number, b) => a * (b ?? 0), 1) }));
      if (own.length === 0) {
        continue;
      }
      const given = net.weights.get(layer.name);
      if (!given) {
        throw new Error(`internal: no weights for layer ${layer.name}`);
      }
      const tensors = own.map((w, i) => {
        const values = given[i]!;
        if (values.length !== w.size) {
          throw new Error(`Layer ${layer.name} needs ${w.size} values for its ${i === 0 ? 'kernel' : 'bias'} ${JSON.stringify(w.shape)} but the file gives ${values.length}.`);
        }
        return tf.tensor(values, w.shape as number[], 'float32');
      });
      layer.setWeights(tensors);
      tensors.forEach((t) => t.dispose());
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

/** The tfjs artifacts (topology + weights) of a model. */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) {
    throw new Error('internal: the model was not saved');
  }
  return saved;
}

/** Writes an imported network as a ConvNet Studio model folder (the layout `convnet export` writes) into the empty `dir`. */
export async function writeImportedFolder(dir: string, net: ImportedNetwork): Promise<void> {
  const model = buildImported(net);
  try {
    writeModelExport(dir, await modelArtifacts(model), net.spec);
  } finally {
    model.dispose();
  }
}
