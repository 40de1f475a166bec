import * as tf from '@tensorflow/tfjs';
import type { TensorInfo, WasmKernelFunc } from './kernel-call.js';
import { runSplit } from './kernel-pool.js';
import { heapOffset, kernelPool, simdKernels } from './simd-module.js';

/**
 * Max-pool gradient: each output's gradient goes to the first maximum of its window (cpu's and
 * TensorFlow's rule). Runs directly on the wasm heap, one pass over the windows: in the SIMD module
 * (simd-kernels.c; four channels at a time, the window's pixels innermost), or in JS where that module
 * cannot run. Replaces the backend's kernel, which starts each window's search at
 * +FLT_MIN instead of −∞ and so drops the gradient of windows with no positive value.
 */
export const maxPoolGrad: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.input as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'same' | 'valid' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const dxInfo = backend.makeOutput(x.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd) {
    const [px, pdy, pdx] = [x, dy, dxInfo].map((t) => heapOffset(backend, t)) as [number, number, number];
    const { top, left } = info.padInfo;
    const pool = kernelPool(backend);
    const inImage = 4 * inHeight * inWidth * channels;
    const outImage = 4 * outHeight * outWidth * channels;
    // Images split into shares (each writes only its own images' dx).
    runSplit(simd, pool, batchSize, 1, 'max_pool_grad', (b0, b1) => [
      px + b0 * inImage,
      pdy + b0 * outImage,
      pdx + b0 * inImage,
      b1 - b0,
      inHeight,
      inWidth,
      channels,
      outHeight,
      outWidth,
      strideHeight,
      strideWidth,
      filterHeight,
      filterWidth,
      top,
      left,
    ]);
    return dxInfo;
  }
  const xs = backend.typedArrayFromHeap(x);
  const dys = backend.typedArrayFromHeap(dy);
  const dx = backend.typedArrayFromHeap(dxInfo);
  dx.fill(0);
  const best = new Float32Array(channels);
  const where = new Int32Array(channels);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    const image = b * inHeight * inWidth * channels;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - info.padInfo.top;
      const hEnd = Math.min(inHeight, h0 + filterHeight);
      for (let ow = 0; ow < outWidth; ow++, o += channels) {
        const w0 = ow * strideWidth - info.padInfo.left;
        const wEnd = Math.min(inWidth, w0 + filterWidth);
        best.fill(-Infinity);
        where.fill(-1);
        for (let h = Math.max(0, h0); h < hEnd; h++) {
          for (let w = Math.max(0, w0); w < wEnd; w++) {
            const p = image + (h * inWidth + w) * channels;
            for (let c = 0; c < channels; c++) {
              const v = xs[p + c] as number;
              if (v > (best[c] as number)) {
                best[c] = v;
                where[c] = p + c;
              }
            }
          }
        }
        for (let c = 0; c < channels; c++) {
          const at = where[c] as number;
          if (at >= 0) {
            dx[at] = (dx[at] as number) + (dys[o + c] as number);
          }
        }
      }
    }
  }
  return dxInfo;
};
