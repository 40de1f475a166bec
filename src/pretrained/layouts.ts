// Weight layout conversions from PyTorch/ONNX (NCHW graphs) to TensorFlow.js layers (NHWC).

/** A conv kernel [O, I, kH, kW] (PyTorch/ONNX OIHW) as tfjs' [kH, kW, I, O]; `reverseInput` flips I (a BGR-trained conv1 fed RGB). */
export function oihwToHwio(data: Float32Array, shape: readonly number[], reverseInput = false): Float32Array {
  const [o, i, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let oo = 0; oo < o; oo++) {
    for (let ii = 0; ii < i; ii++) {
      const src = reverseInput ? i - 1 - ii : ii;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((y * w + x) * i + ii) * o + oo] = data[((oo * i + src) * h + y) * w + x]!;
        }
      }
    }
  }
  return out;
}

/** A dense weight [out, in] (PyTorch Linear, ONNX Gemm with transB=1) as tfjs' [in, out]. */
export function outInToInOut(data: Float32Array, out: number, inputs: number): Float32Array {
  const t = new Float32Array(data.length);
  for (let r = 0; r < out; r++) {
    for (let c = 0; c < inputs; c++) {
      t[c * out + r] = data[r * inputs + c]!;
    }
  }
  return t;
}

/**
 * The first dense layer after a flatten, [in, out] with inputs in PyTorch's C,H,W flatten order, re-ordered for
 * tfjs' H,W,C flatten: row (h·W + w)·C + c of the result is row c·H·W + h·W + w of the input.
 */
export function chwRowsToHwc(kernel: Float32Array, c: number, h: number, w: number, out: number): Float32Array {
  const t = new Float32Array(kernel.length);
  for (let cc = 0; cc < c; cc++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = (cc * h * w + y * w + x) * out;
        t.set(kernel.subarray(from, from + out), ((y * w + x) * c + cc) * out);
      }
    }
  }
  return t;
}
