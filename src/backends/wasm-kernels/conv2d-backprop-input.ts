import * as tf from '@tensorflow/tfjs';
import { callKernel, release, type TensorInfo, type WasmBackendLike, type WasmKernelFunc } from './kernel-call.js';
import { winogradInputGrad } from './winograd-conv.js';

type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];

/**
 * [kh, kw, ci, co] → [KH−1−kh, KW−1−kw, co, ci]: the filter rotated 180° with in/out channels
 * swapped, in one pass over the wasm heap (the backend's Reverse kernel costs ~30 ns per element).
 */
function rotateFilter(backend: WasmBackendLike, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  for (let i = 0; i < kh * kw; i++) {
    const from = i * ci * co;
    const to = (kh * kw - 1 - i) * ci * co;
    for (let c = 0; c < ci; c++) {
      for (let o = 0; o < co; o++) {
        dst[to + o * ci + c] = src[from + c * co + o] as number;
      }
    }
  }
  return out;
}

/**
 * Input gradient of a stride-1 2-D convolution: dx is the "full" convolution of dy with the filter
 * rotated 180° and its in/out channels swapped, by the Winograd kernels where they apply and pay,
 * else as one XNNPACK convolution. The backend's own kernel is a scalar C loop (~6× slower here);
 * strided convolutions still go to it, which in these models is only conv1, whose input gradient
 * training never asks for.
 */
export function conv2dBackpropInputWith(fallback: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const dy = inputs.dy as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const { strides, pad, dimRoundingMode, inputShape, dataFormat } = attrs as {
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: [number, number, number, number];
      dataFormat?: 'NHWC' | 'NCHW';
    };
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, padInfo } = info;
    const top = filterHeight - 1 - padInfo.top;
    const left = filterWidth - 1 - padInfo.left;
    const bottom = inHeight - outHeight + padInfo.top;
    const right = inWidth - outWidth + padInfo.left;
    const unit = info.strideHeight === 1 && info.strideWidth === 1;
    if (!unit || dataFormat === 'NCHW' || Math.min(top, left, bottom, right) < 0) {
      return fallback(args);
    }
    const explicit: Pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
    const winograd = filter.dtype === 'float32' ? winogradInputGrad(backend, dy, filter, explicit) : null;
    if (winograd) {
      return winograd;
    }
    const rotated = rotateFilter(backend, filter);
    const dx = callKernel(
      'Conv2D',
      backend,
      { x: dy, filter: rotated },
      { strides: 1, pad: explicit, dilations: 1, dataFormat: 'NHWC' },
    );
    release(backend, rotated);
    return dx;
  };
}
