import * as tf from '@tensorflow/tfjs';
import { callKernel, release, type TensorInfo, type WasmKernelFunc } from './kernel-call.js';

type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];

/**
 * Input gradient of a stride-1 2-D convolution as one XNNPACK convolution: dx is the "full"
 * convolution of dy with the filter rotated 180° and its in/out channels swapped. The backend's
 * own kernel is a scalar C loop (~6× slower here); strided convolutions still go to it, which
 * in these models is only conv1, whose input gradient training never asks for.
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
    const flipped = callKernel('Reverse', backend, { x: filter }, { dims: [0, 1] });
    const swapped = callKernel('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    release(backend, flipped);
    const dx = callKernel(
      'Conv2D',
      backend,
      { x: dy, filter: swapped },
      { strides: 1, pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dilations: 1, dataFormat: 'NHWC' },
    );
    release(backend, swapped);
    return dx;
  };
}
