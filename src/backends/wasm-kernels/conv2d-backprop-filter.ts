import * as tf from '@tensorflow/tfjs';
import { callKernel, release, type TensorInfo, type WasmKernelFunc } from './kernel-call.js';

/**
 * Filter gradient of a 2-D convolution as one XNNPACK convolution: dW[kh,kw,ci,co] =
 * Σ_{b,oh,ow} x[b, oh·s+kh−pad, ow·s+kw−pad, ci] · dy[b,oh,ow,co] is a convolution of x seen as
 * [CI, H, W, B] (batch ↔ channels) with dy seen as a [OH, OW, B, CO] filter dilated by the stride.
 */
export const conv2dBackpropFilter: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dimRoundingMode, filterShape, dataFormat } = attrs as {
    strides: number | [number, number];
    pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
    dataFormat?: 'NHWC' | 'NCHW';
  };
  if (dataFormat === 'NCHW') {
    throw new Error("wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only");
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad as Parameters<typeof tf.backend_util.computeConv2DInfo>[4],
    dimRoundingMode,
  );
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  // Rows/columns of padded x the gradient reads; the rest of any bottom/right padding is unused.
  const spanH = filterHeight + (outHeight - 1) * strideHeight;
  const spanW = filterWidth + (outWidth - 1) * strideWidth;
  const bottom = Math.max(0, spanH - padInfo.top - inHeight);
  const right = Math.max(0, spanW - padInfo.left - inWidth);
  const xT = callKernel('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
  const dyT = callKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
  const conv = callKernel(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: 1,
      pad: [[0, 0], [padInfo.top, bottom], [padInfo.left, right], [0, 0]],
      dilations: [strideHeight, strideWidth],
      dataFormat: 'NHWC',
    },
  );
  release(backend, xT, dyT);
  let grad = conv;
  if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
    grad = callKernel('Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [-1, filterHeight, filterWidth, -1] });
    release(backend, conv);
  }
  const dw = callKernel('Transpose', backend, { x: grad }, { perm: [1, 2, 0, 3] });
  release(backend, grad);
  return dw;
};
