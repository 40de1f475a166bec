import * as tf from '@tensorflow/tfjs';
import { GroupedConv2D } from './grouped-conv2d.js';
import { biasInitializer, kernelInitializer, type InitScheme } from './initializers.js';
import { describeTopology, type LayerSpec } from './layer-spec.js';
import { LocalResponseNormalization } from './lrn-layer.js';

function toLayers(spec: LayerSpec, init: InitScheme): tf.layers.Layer[] {
  switch (spec.kind) {
    case 'conv': {
      // A symmetric border of (k-1)/2 at stride 1 is exactly 'same': no separate padding layer.
      const isSame = spec.padding === 'same' || (spec.stride === 1 && spec.padding === (spec.kernel - 1) / 2);
      const border = typeof spec.padding === 'number' && !isSame ? spec.padding : 0;
      const padding = isSame ? 'same' : 'valid';
      const pad = border > 0 ? [tf.layers.zeroPadding2d({ name: `${spec.name}_pad`, padding: border })] : [];
      const common = { name: spec.name, filters: spec.filters, kernelSize: spec.kernel, strides: spec.stride, padding } as const;
      const conv =
        spec.groups === 1
          ? tf.layers.conv2d({
              ...common,
              activation: 'relu',
              kernelInitializer: kernelInitializer(init),
              biasInitializer: biasInitializer(init, spec.paperBias),
            })
          : new GroupedConv2D({ ...common, groups: spec.groups, activation: 'relu', init, paperBias: spec.paperBias });
      return [...pad, conv];
    }
    case 'lrn':
      return [
        new LocalResponseNormalization({ name: spec.name, depthRadius: spec.depthRadius, bias: spec.bias, alpha: spec.alpha, beta: spec.beta }),
      ];
    case 'maxpool':
      return [tf.layers.maxPooling2d({ name: spec.name, poolSize: spec.pool, strides: spec.stride, padding: spec.padding ?? 'valid' })];
    case 'flatten':
      return [tf.layers.flatten({ name: spec.name })];
    case 'dropout':
      return [tf.layers.dropout({ name: spec.name, rate: spec.rate })];
    case 'dense':
      return [
        tf.layers.dense({
          name: spec.name,
          units: spec.units,
          activation: spec.activation,
          kernelInitializer: kernelInitializer(init),
          biasInitializer: biasInitializer(init, spec.paperBias),
        }),
      ];
  }
}

/** Builds an uncompiled tf.LayersModel from a topology for square RGB inputs of `inputSize` pixels. */
export function buildFromSpecs(name: string, specs: LayerSpec[], inputSize: number, init: InitScheme): tf.LayersModel {
  describeTopology(specs, inputSize); // fails early, with the offending layer named, if the input is too small
  const model = tf.sequential({ name });
  model.add(tf.layers.inputLayer({ name: 'image', inputShape: [inputSize, inputSize, 3] }));
  for (const spec of specs) {
    for (const layer of toLayers(spec, init)) {
      model.add(layer);
    }
  }
  return model;
}
