import * as tf from '@tensorflow/tfjs';
import { callKernel, release, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo, type WasmKernelFunc } from './kernel-call.js';
import { winogradFilterGrad, type ConvAttrs } from './winograd-conv.js';

/**
 * Filter gradient of a 2-D convolution: by Winograd for stride-1 3×3 and 5×5 filters where that pays,
 * otherwise as one XNNPACK convolution: dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh−pad, ow·s+kw−pad, ci]
 * · dy[b,oh,ow,co] is a convolution of x seen as [CI, H, W, B] (batch ↔ channels) with dy seen as a
 * [OH, OW, B, CO] filter dilated by the stride.
 */
export const conv2dBackpropFilter: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const winograd = winogradFilterGrad(backend, x, dy, attrs.filterShape as number[], attrs as unknown as ConvAttrs);
  return winograd ?? filterGradAsConv(x, dy, attrs, (name, i, a) => callKernel(name, backend, i, a), (...infos) => release(backend, ...infos));
};

/**
 * The filter gradient built from a backend's own Transpose, Conv2D and Slice kernels (`call`), freeing
 * intermediates with `free`: shared by the wasm kernel and the cpu one (backends/cpu-kernels.ts).
 */
export function filterGradAsConv(
  x: TensorInfo,
  dy: TensorInfo,
  attrs: NamedAttrMap,
  call: (name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap) => TensorInfo,
  free: (...infos: TensorInfo[]) => void,
): TensorInfo {
  const { strides, pad, dimRoundingMode, filterShape, dataFormat } = attrs as {
    strides: number | [number, number];
    pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
    dataFormat?: 'NHWC' | 'NCHW';
  };
  if (dataFormat === 'NCHW') {
    throw new Error("the project's Conv2DBackpropFilter supports dataFormat 'NHWC' only");
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
  const xT = call('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = call('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const conv = call(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: 1,
      pad: [[0, 0], [padInfo.top, bottom], [padInfo.left, right], [0, 0]],
      dilations: [strideHeight, strideWidth],
      dataFormat: 'NHWC',
    },
  );
  free(xT, dyT);
  let grad = conv;
  if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
    grad = call('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [-1, filterHeight, filterWidth, -1] });
    free(conv);
  }
  const dw = call('Transpose', { x: grad }, { perm: [1, 2, 0, 3] });
  free(grad);
  return dw;
}
