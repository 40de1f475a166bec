/** Padding of a convolution: TF-style 'same'/'valid', or an explicit symmetric zero border (torchvision style). */
export type ConvPadding = 'same' | 'valid' | number;

/** One layer of a topology, as plain data (JSON-serialisable, shown by the UI, turned into tf.layers by `buildFromSpecs`). */
export type LayerSpec =
  | {
      kind: 'conv';
      name: string;
      filters: number;
      kernel: number;
      stride: number;
      padding: ConvPadding;
      /** Channel groups ("towers"); 2 reproduces the paper's two-GPU split. */
      groups: number;
      /** Bias value under the paper's init (1 in conv2/4/5, 0 elsewhere). */
      paperBias: number;
    }
  | { kind: 'lrn'; name: string; depthRadius: number; bias: number; alpha: number; beta: number }
  /** `padding` 'same' (TF: the extra row/column after) reproduces Caffe's ceil-mode pooling where the two agree; default 'valid'. */
  | { kind: 'maxpool'; name: string; pool: number; stride: number; padding?: 'same' | 'valid' }
  | { kind: 'flatten'; name: string }
  | { kind: 'dropout'; name: string; rate: number }
  | { kind: 'dense'; name: string; units: number; activation: 'relu' | 'softmax'; paperBias: number };

/** A layer with the shape it produces and its parameter count. */
export interface LayerRow {
  spec: LayerSpec;
  /** [height, width, channels] for image-shaped outputs, [units] after flatten. */
  outputShape: number[];
  params: number;
}

/** Per-run switches shared by every architecture. */
export interface TopologyOptions {
  numClasses: number;
  inputSize: number;
  lrn: boolean;
  dropout: number;
}

/** The paper's LRN constants (section 3.3): k=2, n=5 (radius 2), α=1e-4, β=0.75. */
export const PAPER_LRN = { depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 } as const;

/** The classifier head shared by the family: dropout, FC, ReLU, dropout, FC, ReLU, FC + softmax. */
export function classifierHead(hidden: number, numClasses: number, dropout: number): LayerSpec[] {
  const specs: LayerSpec[] = [{ kind: 'flatten', name: 'flatten' }];
  if (dropout > 0) {
    specs.push({ kind: 'dropout', name: 'drop6', rate: dropout });
  }
  specs.push({ kind: 'dense', name: 'fc6', units: hidden, activation: 'relu', paperBias: 1 });
  if (dropout > 0) {
    specs.push({ kind: 'dropout', name: 'drop7', rate: dropout });
  }
  specs.push({ kind: 'dense', name: 'fc7', units: hidden, activation: 'relu', paperBias: 1 });
  specs.push({ kind: 'dense', name: 'fc8', units: numClasses, activation: 'softmax', paperBias: 0 });
  return specs;
}

function convOut(size: number, kernel: number, stride: number, padding: ConvPadding): number {
  if (padding === 'same') {
    return Math.ceil(size / stride);
  }
  const pad = padding === 'valid' ? 0 : padding;
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Output shape and parameter count of every layer for a square RGB input; throws if the input is too small. */
export function describeTopology(specs: LayerSpec[], inputSize: number, channels = 3): LayerRow[] {
  let shape = [inputSize, inputSize, channels];
  return specs.map((spec) => {
    let params = 0;
    const [h = 0, w = 0, c = 0] = shape;
    switch (spec.kind) {
      case 'conv': {
        if (c % spec.groups !== 0 || spec.filters % spec.groups !== 0) {
          throw new Error(`${spec.name}: channels ${c}→${spec.filters} do not split into ${spec.groups} groups`);
        }
        shape = [convOut(h, spec.kernel, spec.stride, spec.padding), convOut(w, spec.kernel, spec.stride, spec.padding), spec.filters];
        params = spec.kernel * spec.kernel * (c / spec.groups) * spec.filters + spec.filters;
        break;
      }
      case 'maxpool':
        shape = [convOut(h, spec.pool, spec.stride, spec.padding ?? 'valid'), convOut(w, spec.pool, spec.stride, spec.padding ?? 'valid'), c];
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dense':
        params = (shape[0] ?? 0) * spec.units + spec.units;
        shape = [spec.units];
        break;
      case 'lrn':
      case 'dropout':
        break;
    }
    if (shape.some((d) => d < 1)) {
      throw new Error(`input size ${inputSize} is too small: layer ${spec.name} would have shape [${shape.join(', ')}]`);
    }
    return { spec, outputShape: shape, params };
  });
}
