// Project kernels for tfjs' wasm backend, in C compiled to a small WebAssembly SIMD module that shares
// the backend's memory (see simd-module.ts). Build: sh src/backends/wasm-kernels/build-simd.sh
// (clang + lld with the wasm32 target), which regenerates simd-binary.ts.
//
// Rules, because this module lives inside tfjs' heap: no static or global data, no stack (every
// buffer comes from the caller as a pointer into memory tfjs allocated), no libc.

#include <wasm_simd128.h>

typedef unsigned int u32;

#define EXPORT(name) __attribute__((export_name(#name)))

static inline float sqrtf_(float v) { return __builtin_sqrtf(v); }

// Local response normalisation across the last axis, β = 0.75 (the paper's):
// y = x · N^−0.75, N = k + α Σ_{|j−c|≤r} x_j². `scratch` holds channels + 2r floats.
EXPORT(lrn_forward)
void lrn_forward(const float* restrict x, float* restrict y, u32 pixels, u32 channels, u32 r, float k, float alpha, float* scratch) {
  for (u32 i = 0; i < r; i++) {
    scratch[i] = 0.f;
    scratch[r + channels + i] = 0.f;
  }
  const u32 window = 2 * r + 1;
  for (u32 p = 0; p < pixels; p++) {
    const float* restrict xp = x + (unsigned long)p * channels;
    float* restrict yp = y + (unsigned long)p * channels;
    for (u32 c = 0; c < channels; c++) {
      scratch[r + c] = xp[c] * xp[c];
    }
    u32 c = 0;
    // Four channels at a time: the window sums are unaligned loads of the padded squares.
    for (; c + 4 <= channels; c += 4) {
      v128_t s = wasm_v128_load(scratch + c);
      for (u32 j = 1; j < window; j++) {
        s = wasm_f32x4_add(s, wasm_v128_load(scratch + c + j));
      }
      const v128_t n = wasm_f32x4_add(wasm_f32x4_splat(k), wasm_f32x4_mul(wasm_f32x4_splat(alpha), s));
      const v128_t q = wasm_f32x4_sqrt(n);
      wasm_v128_store(yp + c, wasm_f32x4_div(wasm_v128_load(xp + c), wasm_f32x4_mul(q, wasm_f32x4_sqrt(q))));
    }
    for (; c < channels; c++) {
      float s = 0.f;
      for (u32 j = 0; j < window; j++) {
        s += scratch[c + j];
      }
      const float n = k + alpha * s;
      const float q = sqrtf_(n);
      yp[c] = xp[c] / (q * sqrtf_(q));
    }
  }
}

// Its gradient (TensorFlow's definition), β = 0.75:
// dx_c = dy_c·N_c^−β − 2αβ·x_c·Σ_{|o−c|≤r} dy_o·y_o / N_o. `scratch` holds 3·(channels + 2r) floats.
EXPORT(lrn_backward)
void lrn_backward(const float* restrict x, const float* restrict y, const float* restrict dy, float* restrict dx, u32 pixels, u32 channels, u32 r, float k, float alpha,
                  float* scratch) {
  const u32 padded = channels + 2 * r;
  // Three disjoint parts of scratch: squares and t, each with r zeros either side, and N^−β.
  float* sqPad = scratch;
  float* tPad = scratch + padded;
  float* pw = scratch + 2 * padded;
  for (u32 i = 0; i < r; i++) {
    sqPad[i] = 0.f;
    sqPad[r + channels + i] = 0.f;
    tPad[i] = 0.f;
    tPad[r + channels + i] = 0.f;
  }
  const u32 window = 2 * r + 1;
  const float scale = -2.f * alpha * 0.75f;
  for (u32 p = 0; p < pixels; p++) {
    const unsigned long o = (unsigned long)p * channels;
    const float* restrict xp = x + o;
    const float* restrict yp = y + o;
    const float* restrict dyp = dy + o;
    float* restrict dxp = dx + o;
    for (u32 c = 0; c < channels; c++) {
      sqPad[r + c] = xp[c] * xp[c];
    }
    u32 c = 0;
    for (; c + 4 <= channels; c += 4) {
      v128_t s = wasm_v128_load(sqPad + c);
      for (u32 j = 1; j < window; j++) {
        s = wasm_f32x4_add(s, wasm_v128_load(sqPad + c + j));
      }
      const v128_t n = wasm_f32x4_add(wasm_f32x4_splat(k), wasm_f32x4_mul(wasm_f32x4_splat(alpha), s));
      const v128_t q = wasm_f32x4_sqrt(n);
      wasm_v128_store(pw + c, wasm_f32x4_div(wasm_f32x4_splat(1.f), wasm_f32x4_mul(q, wasm_f32x4_sqrt(q))));
      wasm_v128_store(tPad + r + c, wasm_f32x4_div(wasm_f32x4_mul(wasm_v128_load(dyp + c), wasm_v128_load(yp + c)), n));
    }
    for (; c < channels; c++) {
      float s = 0.f;
      for (u32 j = 0; j < window; j++) {
        s += sqPad[c + j];
      }
      const float n = k + alpha * s;
      const float q = sqrtf_(n);
      pw[c] = 1.f / (q * sqrtf_(q));
      tPad[r + c] = dyp[c] * yp[c] / n;
    }
    c = 0;
    for (; c + 4 <= channels; c += 4) {
      v128_t s = wasm_v128_load(tPad + c);
      for (u32 j = 1; j < window; j++) {
        s = wasm_f32x4_add(s, wasm_v128_load(tPad + c + j));
      }
      const v128_t a = wasm_f32x4_mul(wasm_v128_load(dyp + c), wasm_v128_load(pw + c));
      wasm_v128_store(dxp + c, wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(scale), wasm_v128_load(xp + c)), s)));
    }
    for (; c < channels; c++) {
      float s = 0.f;
      for (u32 j = 0; j < window; j++) {
        s += tPad[c + j];
      }
      dxp[c] = dyp[c] * pw[c] + scale * xp[c] * s;
    }
  }
}

// Sum of the rows of a [rows, cols] matrix (a bias gradient: reduce every axis but the last), in
// blocks of float partial sums added into doubles. `acc` holds cols doubles (8-byte aligned).
EXPORT(sum_rows)
void sum_rows(const float* restrict x, float* restrict out, u32 rows, u32 cols, double* restrict acc, float* restrict part) {
  for (u32 c = 0; c < cols; c++) {
    acc[c] = 0.0;
  }
  const u32 block = 64;
  for (u32 r0 = 0; r0 < rows; r0 += block) {
    const u32 r1 = r0 + block < rows ? r0 + block : rows;
    for (u32 c = 0; c < cols; c++) {
      part[c] = 0.f;
    }
    for (u32 r = r0; r < r1; r++) {
      const float* restrict xr = x + (unsigned long)r * cols;
      for (u32 c = 0; c < cols; c++) {
        part[c] += xr[c];
      }
    }
    for (u32 c = 0; c < cols; c++) {
      acc[c] += (double)part[c];
    }
  }
  for (u32 c = 0; c < cols; c++) {
    out[c] = (float)acc[c];
  }
}

// Max-pool gradient, NHWC: each output's gradient goes to the first maximum of its window (cpu's and
// TensorFlow's rule), windows starting at −∞. `best` holds channels floats, `where` channels ints.
EXPORT(max_pool_grad)
void max_pool_grad(const float* restrict x, const float* restrict dy, float* restrict dx, u32 batch, u32 inH, u32 inW, u32 channels, u32 outH, u32 outW, u32 strideH,
                   u32 strideW, u32 filterH, u32 filterW, int padTop, int padLeft, float* restrict best, int* restrict where) {
  const unsigned long total = (unsigned long)batch * inH * inW * channels;
  for (unsigned long i = 0; i < total; i++) {
    dx[i] = 0.f;
  }
  unsigned long o = 0;
  for (u32 b = 0; b < batch; b++) {
    const int image = (int)(b * inH * inW * channels);
    for (u32 oh = 0; oh < outH; oh++) {
      const int h0 = (int)(oh * strideH) - padTop;
      const int hEnd = h0 + (int)filterH < (int)inH ? h0 + (int)filterH : (int)inH;
      for (u32 ow = 0; ow < outW; ow++, o += channels) {
        const int w0 = (int)(ow * strideW) - padLeft;
        const int wEnd = w0 + (int)filterW < (int)inW ? w0 + (int)filterW : (int)inW;
        for (u32 c = 0; c < channels; c++) {
          best[c] = -__builtin_inff();
          where[c] = -1;
        }
        for (int h = h0 > 0 ? h0 : 0; h < hEnd; h++) {
          for (int w = w0 > 0 ? w0 : 0; w < wEnd; w++) {
            const int pix = image + (h * (int)inW + w) * (int)channels;
            const float* restrict xp = x + pix;
            u32 c = 0;
            // Four channels at a time (LLVM does not vectorise the float compare / int select pair).
            const v128_t iota = wasm_i32x4_make(0, 1, 2, 3);
            for (; c + 4 <= channels; c += 4) {
              const v128_t v = wasm_v128_load(xp + c);
              const v128_t b = wasm_v128_load(best + c);
              const v128_t gt = wasm_f32x4_gt(v, b);
              wasm_v128_store(best + c, wasm_v128_bitselect(v, b, gt));
              const v128_t at = wasm_i32x4_add(wasm_i32x4_splat(pix + (int)c), iota);
              wasm_v128_store(where + c, wasm_v128_bitselect(at, wasm_v128_load(where + c), gt));
            }
            for (; c < channels; c++) {
              const float v = xp[c];
              const int better = v > best[c];
              best[c] = better ? v : best[c];
              where[c] = better ? pix + (int)c : where[c];
            }
          }
        }
        for (u32 c = 0; c < channels; c++) {
          const int at = where[c];
          if (at >= 0) {
            dx[at] += dy[o + c];
          }
        }
      }
    }
  }
}

// The paper's SGD step for one weight (PaperSgd): v' = m·v − lr·g − decay·w, w' = w + v'
// (decay = weight decay × lr, or 0 for an undecayed bias), in one pass instead of six kernels.
EXPORT(sgd_update)
void sgd_update(const float* restrict v, const float* restrict g, const float* restrict w, float* restrict vOut, float* restrict wOut, u32 n, float momentum, float lr,
                float decay) {
  for (u32 i = 0; i < n; i++) {
    const float nv = (momentum * v[i] - lr * g[i]) - decay * w[i];
    vOut[i] = nv;
    wOut[i] = w[i] + nv;
  }
}
