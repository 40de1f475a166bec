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

// Sums over the LRN window of a padded row (r zeros either side): channels c..c+3, and channel c alone.
static inline v128_t window_sum4(const float* pad, u32 c, u32 window) {
  v128_t s = wasm_v128_load(pad + c);
  for (u32 j = 1; j < window; j++) {
    s = wasm_f32x4_add(s, wasm_v128_load(pad + c + j));
  }
  return s;
}

static inline float window_sum1(const float* pad, u32 c, u32 window) {
  float s = 0.f;
  for (u32 j = 0; j < window; j++) {
    s += pad[c + j];
  }
  return s;
}

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
      const v128_t s = window_sum4(scratch, c, window);
      const v128_t n = wasm_f32x4_add(wasm_f32x4_splat(k), wasm_f32x4_mul(wasm_f32x4_splat(alpha), s));
      const v128_t q = wasm_f32x4_sqrt(n);
      wasm_v128_store(yp + c, wasm_f32x4_div(wasm_v128_load(xp + c), wasm_f32x4_mul(q, wasm_f32x4_sqrt(q))));
    }
    for (; c < channels; c++) {
      const float n = k + alpha * window_sum1(scratch, c, window);
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
      const v128_t s = window_sum4(sqPad, c, window);
      const v128_t n = wasm_f32x4_add(wasm_f32x4_splat(k), wasm_f32x4_mul(wasm_f32x4_splat(alpha), s));
      const v128_t q = wasm_f32x4_sqrt(n);
      wasm_v128_store(pw + c, wasm_f32x4_div(wasm_f32x4_splat(1.f), wasm_f32x4_mul(q, wasm_f32x4_sqrt(q))));
      wasm_v128_store(tPad + r + c, wasm_f32x4_div(wasm_f32x4_mul(wasm_v128_load(dyp + c), wasm_v128_load(yp + c)), n));
    }
    for (; c < channels; c++) {
      const float n = k + alpha * window_sum1(sqPad, c, window);
      const float q = sqrtf_(n);
      pw[c] = 1.f / (q * sqrtf_(q));
      tPad[r + c] = dyp[c] * yp[c] / n;
    }
    c = 0;
    for (; c + 4 <= channels; c += 4) {
      const v128_t s = window_sum4(tPad, c, window);
      const v128_t a = wasm_f32x4_mul(wasm_v128_load(dyp + c), wasm_v128_load(pw + c));
      wasm_v128_store(dxp + c, wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(scale), wasm_v128_load(xp + c)), s)));
    }
    for (; c < channels; c++) {
      dxp[c] = dyp[c] * pw[c] + scale * xp[c] * window_sum1(tPad, c, window);
    }
  }
}

// LRN for training, β = 0.75: as lrn_forward, and also keeps ρ = N^−1/4 per element (`rho`), from which
// its gradient takes N^−β = ρ³ and 1/N = ρ⁴ by multiplying instead of two square roots and two divisions.
EXPORT(lrn_forward_keep)
void lrn_forward_keep(const float* restrict x, float* restrict y, float* restrict rho, u32 pixels, u32 channels, u32 r, float k, float alpha, float* scratch) {
  for (u32 i = 0; i < r; i++) {
    scratch[i] = 0.f;
    scratch[r + channels + i] = 0.f;
  }
  const u32 window = 2 * r + 1;
  for (u32 p = 0; p < pixels; p++) {
    const unsigned long o = (unsigned long)p * channels;
    const float* restrict xp = x + o;
    for (u32 c = 0; c < channels; c++) {
      scratch[r + c] = xp[c] * xp[c];
    }
    u32 c = 0;
    for (; c + 4 <= channels; c += 4) {
      const v128_t n = wasm_f32x4_add(wasm_f32x4_splat(k), wasm_f32x4_mul(wasm_f32x4_splat(alpha), window_sum4(scratch, c, window)));
      const v128_t q = wasm_f32x4_div(wasm_f32x4_splat(1.f), wasm_f32x4_sqrt(wasm_f32x4_sqrt(n)));
      wasm_v128_store(rho + o + c, q);
      wasm_v128_store(y + o + c, wasm_f32x4_mul(wasm_v128_load(xp + c), wasm_f32x4_mul(q, wasm_f32x4_mul(q, q))));
    }
    for (; c < channels; c++) {
      const float q = 1.f / sqrtf_(sqrtf_(k + alpha * window_sum1(scratch, c, window)));
      rho[o + c] = q;
      y[o + c] = xp[c] * (q * (q * q));
    }
  }
}

// Its gradient from the kept ρ: dx_c = dy_c·ρ_c³ − 2αβ·x_c·Σ_{|o−c|≤r} dy_o·y_o·ρ_o⁴. `scratch` holds
// channels + 2r floats.
EXPORT(lrn_backward_kept)
void lrn_backward_kept(const float* restrict x, const float* restrict y, const float* restrict rho, const float* restrict dy, float* restrict dx, u32 pixels, u32 channels, u32 r,
                       float alpha, float* scratch) {
  for (u32 i = 0; i < r; i++) {
    scratch[i] = 0.f;
    scratch[r + channels + i] = 0.f;
  }
  const u32 window = 2 * r + 1;
  const float scale = -2.f * alpha * 0.75f;
  for (u32 p = 0; p < pixels; p++) {
    const unsigned long o = (unsigned long)p * channels;
    u32 c = 0;
    for (; c + 4 <= channels; c += 4) {
      const v128_t q = wasm_v128_load(rho + o + c);
      const v128_t q2 = wasm_f32x4_mul(q, q);
      wasm_v128_store(scratch + r + c, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(dy + o + c), wasm_v128_load(y + o + c)), wasm_f32x4_mul(q2, q2)));
    }
    for (; c < channels; c++) {
      const float q = rho[o + c];
      scratch[r + c] = dy[o + c] * y[o + c] * ((q * q) * (q * q));
    }
    c = 0;
    for (; c + 4 <= channels; c += 4) {
      const v128_t q = wasm_v128_load(rho + o + c);
      const v128_t a = wasm_f32x4_mul(wasm_v128_load(dy + o + c), wasm_f32x4_mul(q, wasm_f32x4_mul(q, q)));
      const v128_t b = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(scale), wasm_v128_load(x + o + c)), window_sum4(scratch, c, window));
      wasm_v128_store(dx + o + c, wasm_f32x4_add(a, b));
    }
    for (; c < channels; c++) {
      const float q = rho[o + c];
      dx[o + c] = dy[o + c] * (q * (q * q)) + scale * x[o + c] * window_sum1(scratch, c, window);
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

// The gradient through y = ReLU(z) of a [rows, cols] block: dz = dy · step(y) (step: 1 above 0, 0 at and
// below, NaN for NaN, as tf.step), and its column sums (a bias gradient) into `acc` (cols doubles), from
// blocks of 64 rows of float partial sums (`part`, cols floats), as sum_rows.
EXPORT(relu_grad_rows)
void relu_grad_rows(const float* restrict dy, const float* restrict y, float* restrict dz, u32 rows, u32 cols, double* restrict acc, float* restrict part) {
  for (u32 c = 0; c < cols; c++) {
    acc[c] = 0.0;
  }
  const u32 block = 64;
  const v128_t one = wasm_f32x4_splat(1.f);
  const v128_t zero = wasm_f32x4_splat(0.f);
  for (u32 r0 = 0; r0 < rows; r0 += block) {
    const u32 r1 = r0 + block < rows ? r0 + block : rows;
    for (u32 c = 0; c < cols; c++) {
      part[c] = 0.f;
    }
    for (u32 r = r0; r < r1; r++) {
      const unsigned long o = (unsigned long)r * cols;
      u32 c = 0;
      for (; c + 4 <= cols; c += 4) {
        const v128_t yv = wasm_v128_load(y + o + c);
        v128_t s = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(yv, zero));
        s = wasm_v128_bitselect(yv, s, wasm_f32x4_ne(yv, yv));
        const v128_t d = wasm_f32x4_mul(wasm_v128_load(dy + o + c), s);
        wasm_v128_store(dz + o + c, d);
        wasm_v128_store(part + c, wasm_f32x4_add(wasm_v128_load(part + c), d));
      }
      for (; c < cols; c++) {
        const float yv = y[o + c];
        const float s = yv != yv ? yv : (yv > 0.f ? 1.f : 0.f);
        const float d = dy[o + c] * s;
        dz[o + c] = d;
        part[c] += d;
      }
    }
    for (u32 c = 0; c < cols; c++) {
      acc[c] += (double)part[c];
    }
  }
}

// Max-pool gradient, NHWC: each output's gradient goes to the first maximum of its window (cpu's and
// TensorFlow's rule), windows starting at −∞. Four channels at a time, the window's best values and their
// positions kept in registers while its pixels are read.
EXPORT(max_pool_grad)
void max_pool_grad(const float* restrict x, const float* restrict dy, float* restrict dx, u32 batch, u32 inH, u32 inW, u32 channels, u32 outH, u32 outW, u32 strideH,
                   u32 strideW, u32 filterH, u32 filterW, int padTop, int padLeft) {
  const unsigned long total = (unsigned long)batch * inH * inW * channels;
  for (unsigned long i = 0; i < total; i++) {
    dx[i] = 0.f;
  }
  const v128_t iota = wasm_i32x4_make(0, 1, 2, 3);
  unsigned long o = 0;
  for (u32 b = 0; b < batch; b++) {
    const int image = (int)(b * inH * inW * channels);
    for (u32 oh = 0; oh < outH; oh++) {
      const int h0 = (int)(oh * strideH) - padTop;
      const int hEnd = h0 + (int)filterH < (int)inH ? h0 + (int)filterH : (int)inH;
      const int hStart = h0 > 0 ? h0 : 0;
      for (u32 ow = 0; ow < outW; ow++, o += channels) {
        const int w0 = (int)(ow * strideW) - padLeft;
        const int wEnd = w0 + (int)filterW < (int)inW ? w0 + (int)filterW : (int)inW;
        const int wStart = w0 > 0 ? w0 : 0;
        u32 c = 0;
        for (; c + 4 <= channels; c += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t where = wasm_i32x4_splat(-1);
          for (int h = hStart; h < hEnd; h++) {
            for (int w = wStart; w < wEnd; w++) {
              const int at = image + (h * (int)inW + w) * (int)channels + (int)c;
              const v128_t v = wasm_v128_load(x + at);
              const v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              where = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(at), iota), where, gt);
            }
          }
          const float* restrict g = dy + o + c;
          int at = wasm_i32x4_extract_lane(where, 0);
          if (at >= 0) dx[at] += g[0];
          at = wasm_i32x4_extract_lane(where, 1);
          if (at >= 0) dx[at] += g[1];
          at = wasm_i32x4_extract_lane(where, 2);
          if (at >= 0) dx[at] += g[2];
          at = wasm_i32x4_extract_lane(where, 3);
          if (at >= 0) dx[at] += g[3];
        }
        for (; c < channels; c++) {
          float best = -__builtin_inff();
          int where = -1;
          for (int h = hStart; h < hEnd; h++) {
            for (int w = wStart; w < wEnd; w++) {
              const int at = image + (h * (int)inW + w) * (int)channels + (int)c;
              if (x[at] > best) {
                best = x[at];
                where = at;
              }
            }
          }
          if (where >= 0) dx[where] += dy[o + c];
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

// ---- Winograd convolution F(4×4, r×r) on α×α tiles: F(4×4, 3×3) (α = 6) and F(4×4, 5×5) (α = 8) ----
// Stride 1, NHWC, HWIO filters, output channels a multiple of 4 (input channels are padded to one).
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016) with the points 0, ±1, ±2 and ∞ (α = 6) and also ±1/2 (α = 8; float32 error measured like
// α = 6's). The α² products ⊙, summed over input channels, are α² matrix products [tiles × K]·[K × N]:
// α²/16 instead of r² multiply-adds per output and channel pair (2.25× fewer for 3×3, 6.25× for 5×5).
// Vectors run across four channels. Small arrays of vectors below (f4 v[8]) are indexed by constants
// once loops are unrolled, so they live in locals, not on a stack (build-simd.sh checks).

typedef v128_t f4;
// Inlined into each exported entry point, so that α and r are constants there (loops unrolled).
#define INLINE static inline __attribute__((always_inline))
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define K4(v) wasm_f32x4_splat(v)
// Output tile side.
#define TM 4u

// v[i] = p[i·step], i < n.
INLINE void load_n(f4* v, const float* p, unsigned long step, u32 n) {
#pragma clang loop unroll(full)
  for (u32 i = 0; i < n; i++) v[i] = wasm_v128_load(p + i * step);
}

// p[i·step] = v[i], i < n.
INLINE void store_n(float* p, unsigned long step, const f4* v, u32 n) {
#pragma clang loop unroll(full)
  for (u32 i = 0; i < n; i++) wasm_v128_store(p + i * step, v[i]);
}

// o = Bᵀ·d (α → α).
INLINE void bt(const f4* d, f4* o, u32 a) {
  if (a == 6) {
    const f4 s12 = ADD(d[1], d[2]), s34 = ADD(d[3], d[4]);
    const f4 d42 = SUB(d[4], d[2]), d31 = SUB(d[3], d[1]);
    o[0] = ADD(SUB(MUL(K4(4.f), d[0]), MUL(K4(5.f), d[2])), d[4]);
    o[1] = SUB(s34, MUL(K4(4.f), s12));
    o[2] = ADD(SUB(d[4], d[3]), MUL(K4(4.f), SUB(d[1], d[2])));
    o[3] = ADD(d42, MUL(K4(2.f), d31));
    o[4] = SUB(d42, MUL(K4(2.f), d31));
    o[5] = ADD(SUB(MUL(K4(4.f), d[1]), MUL(K4(5.f), d[3])), d[5]);
  } else {
    const f4 e1 = SUB(ADD(d[2], d[6]), MUL(K4(4.25f), d[4])), o1 = SUB(ADD(d[1], d[5]), MUL(K4(4.25f), d[3]));
    const f4 e2 = ADD(SUB(MUL(K4(0.25f), d[2]), MUL(K4(1.25f), d[4])), d[6]);
    const f4 o2 = ADD(SUB(MUL(K4(0.5f), d[1]), MUL(K4(2.5f), d[3])), MUL(K4(2.f), d[5]));
    const f4 e3 = ADD(SUB(MUL(K4(4.f), d[2]), MUL(K4(5.f), d[4])), d[6]);
    const f4 o3 = ADD(SUB(MUL(K4(2.f), d[1]), MUL(K4(2.5f), d[3])), MUL(K4(0.5f), d[5]));
    o[0] = ADD(SUB(d[6], d[0]), MUL(K4(5.25f), SUB(d[2], d[4])));
    o[1] = ADD(e1, o1);
    o[2] = SUB(e1, o1);
    o[3] = ADD(e2, o2);
    o[4] = SUB(e2, o2);
    o[5] = ADD(e3, o3);
    o[6] = SUB(e3, o3);
    o[7] = ADD(SUB(d[7], d[1]), MUL(K4(5.25f), SUB(d[3], d[5])));
  }
}

// o = Aᵀ·v (α → n) with Aᵀ[i][j] = p_j^i over the finite points p = 0, 1, −1, 2, −2 (, 1/2, −1/2) and
// Aᵀ[i][α−1] = [i = n − 1]: the output transform (n = 4), and the filter gradient's last step (n = r).
INLINE void at(const f4* v, f4* o, u32 n, u32 a) {
  const f4 s12 = ADD(v[1], v[2]), d12 = SUB(v[1], v[2]);
  const f4 s34 = ADD(v[3], v[4]), d34 = SUB(v[3], v[4]);
  const f4 s56 = a == 8 ? ADD(v[5], v[6]) : K4(0.f), d56 = a == 8 ? SUB(v[5], v[6]) : K4(0.f);
  f4 r[5];
  r[0] = ADD(ADD(v[0], s12), s34);
  r[1] = ADD(d12, MUL(K4(2.f), d34));
  r[2] = ADD(s12, MUL(K4(4.f), s34));
  r[3] = ADD(d12, MUL(K4(8.f), d34));
  r[4] = ADD(s12, MUL(K4(16.f), s34));
  if (a == 8) {
    r[0] = ADD(r[0], s56);
    r[1] = ADD(r[1], MUL(K4(0.5f), d56));
    r[2] = ADD(r[2], MUL(K4(0.25f), s56));
    r[3] = ADD(r[3], MUL(K4(0.125f), d56));
    r[4] = ADD(r[4], MUL(K4(0.0625f), s56));
  }
  r[n - 1] = ADD(r[n - 1], v[a - 1]);
#pragma clang loop unroll(full)
  for (u32 i = 0; i < n; i++) o[i] = r[i];
}

// The finite interpolation points, and the normalisation of G's row j: 1 / Π_{l≠j} (p_j − p_l).
INLINE float point(u32 j) {
  return j == 0 ? 0.f : j == 1 ? 1.f : j == 2 ? -1.f : j == 3 ? 2.f : j == 4 ? -2.f : j == 5 ? 0.5f : -0.5f;
}

INLINE float gnorm(u32 j, u32 a) {
  float prod = 1.f;
  for (u32 l = 0; l + 1 < a; l++) {
    if (l != j) prod *= point(j) - point(l);
  }
  return 1.f / prod;
}

// G (α×n): G[j][c] = p_j^c / Π_{l≠j}(p_j − p_l) for j < α − 1, and G[α−1][c] = [c = n − 1].
INLINE float gcoef(u32 j, u32 c, u32 n, u32 a) {
  if (j == a - 1) return c == n - 1 ? 1.f : 0.f;
  float v = gnorm(j, a);
  for (u32 i = 0; i < c; i++) v *= point(j);
  return v;
}

// o = G·g (4 → α): a block of dy in the filter gradient (G for n = 4).
INLINE void g4(const f4* g, f4* o, u32 a) {
  const f4 e1 = ADD(g[0], g[2]), od1 = ADD(g[1], g[3]);
  const f4 e2 = ADD(g[0], MUL(K4(4.f), g[2])), od2 = ADD(MUL(K4(2.f), g[1]), MUL(K4(8.f), g[3]));
  o[0] = MUL(K4(gnorm(0, a)), g[0]);
  o[1] = MUL(K4(gnorm(1, a)), ADD(e1, od1));
  o[2] = MUL(K4(gnorm(2, a)), SUB(e1, od1));
  o[3] = MUL(K4(gnorm(3, a)), ADD(e2, od2));
  o[4] = MUL(K4(gnorm(4, a)), SUB(e2, od2));
  if (a == 8) {
    const f4 eh = ADD(g[0], MUL(K4(0.25f), g[2])), odh = ADD(MUL(K4(0.5f), g[1]), MUL(K4(0.125f), g[3]));
    o[5] = MUL(K4(gnorm(5, a)), ADD(eh, odh));
    o[6] = MUL(K4(gnorm(6, a)), SUB(eh, odh));
  }
  o[a - 1] = g[3];
}

// U = G g Gᵀ for the (k, n) with n in [n0, n1) of an HWIO filter g [r][r][K][N] (r = α − 3), packed
// for wino_conv's products as u[ξ][n / 8][k][n % 8] with K rounded up to KP (a multiple of 4) and N
// to NP (of 8), the padding zero; n0 is a multiple of 8, n1 one of 4 (or N). `scratch` holds α·r vectors.
INLINE void filter_transform(const float* restrict w, float* restrict u, u32 a, u32 K, u32 KP, u32 N, u32 NP, u32 n0, u32 n1, float* restrict scratch) {
  const u32 r = a - 3;
  const unsigned long xiStride = (unsigned long)NP * KP;
  if (N != NP || K != KP) {
    const u32 p1 = (n1 + 7) / 8;
    for (u32 xi = 0; xi < a * a; xi++) {
      for (u32 p = n0 / 8; p < p1; p++) {
        float* dst = u + xi * xiStride + (unsigned long)p * KP * 8;
        for (u32 i = 0; i < KP * 8; i++) dst[i] = 0.f;
      }
    }
  }
  // n outer, k inner: each ξ's packed block is then written in order.
  for (u32 n = n0; n < n1; n += 4) {
    for (u32 k = 0; k < K; k++) {
      // t[j][b] = Σ_c G[j][c] g[c][b], then U[j][i] = Σ_b t[j][b] G[i][b]; four output channels at a time.
      const float* g = w + (unsigned long)k * N + n;
      const unsigned long tap = (unsigned long)K * N;
      float* t = scratch;
#pragma clang loop unroll(full)
      for (u32 j = 0; j < a; j++) {
#pragma clang loop unroll(full)
        for (u32 b = 0; b < r; b++) {
          f4 sum = K4(0.f);
#pragma clang loop unroll(full)
          for (u32 c = 0; c < r; c++) {
            const float coef = gcoef(j, c, r, a);
            if (coef != 0.f) sum = ADD(sum, MUL(K4(coef), wasm_v128_load(g + (c * r + b) * tap)));
          }
          wasm_v128_store(t + (j * r + b) * 4, sum);
        }
      }
      float* dst = u + ((unsigned long)(n / 8) * KP + k) * 8 + n % 8;
#pragma clang loop unroll(full)
      for (u32 j = 0; j < a; j++) {
#pragma clang loop unroll(full)
        for (u32 i = 0; i < a; i++) {
          f4 sum = K4(0.f);
#pragma clang loop unroll(full)
          for (u32 b = 0; b < r; b++) {
            const float coef = gcoef(i, b, r, a);
            if (coef != 0.f) sum = ADD(sum, MUL(K4(coef), wasm_v128_load(t + (j * r + b) * 4)));
          }
          wasm_v128_store(dst + (j * a + i) * xiStride, sum);
        }
      }
    }
  }
}

// out [r][r][N][K] = w [r][r][K][N] turned 180° with its channels swapped: the filter that makes a
// convolution's input gradient a convolution of dy.
EXPORT(turn_filter)
void turn_filter(const float* restrict w, float* restrict out, u32 r, u32 K, u32 N) {
  const unsigned long plane = (unsigned long)K * N;
  for (u32 tap = 0; tap < r * r; tap++) {
    const float* src = w + tap * plane;
    float* dst = out + (unsigned long)(r * r - 1 - tap) * plane;
    for (u32 k = 0; k < K; k++) {
      for (u32 n = 0; n < N; n++) dst[(unsigned long)n * K + k] = src[(unsigned long)k * N + n];
    }
  }
}

// r = 3 → α = 6, r = 5 → α = 8.
#define DISPATCH(a, call3, call5) \
  do {                            \
    if ((a) == 6) {               \
      call3;                      \
    } else {                      \
      call5;                      \
    }                             \
  } while (0)

EXPORT(wino_filter)
void wino_filter(const float* restrict w, float* restrict u, u32 a, u32 K, u32 KP, u32 N, u32 NP, u32 n0, u32 n1, float* restrict scratch) {
  DISPATCH(a, filter_transform(w, u, 6, K, KP, N, NP, n0, n1, scratch), filter_transform(w, u, 8, K, KP, N, NP, n0, n1, scratch));
}

// Four channels from c of a pixel: all four below K, else the first K − c and zeros.
INLINE f4 load_channels(const float* p, u32 c, u32 K) {
  if (c + 4 <= K) return wasm_v128_load(p);
  const u32 left = K - c;
  return wasm_f32x4_make(p[0], left > 1 ? p[1] : 0.f, left > 2 ? p[2] : 0.f, 0.f);
}

// Where tile g (numbered over batch × tilesH × tilesW) lies: its image, and its row and column of tiles.
typedef struct {
  u32 image, th, tw;
} tile_at;

INLINE tile_at locate(u32 g, u32 tilesH, u32 tilesW) {
  const u32 perImage = tilesH * tilesW;
  const tile_at tl = {g / perImage, (g % perImage) / tilesW, g % tilesW};
  return tl;
}

// Bᵀ d B for tiles [t0, t0 + tc), into v[ξ][t − t0][KP] (channels K..KP zero). `scratch` holds α² vectors.
INLINE void wino_input(const float* restrict x, float* restrict v, u32 t0, u32 tc, u32 H, u32 W, u32 K, u32 KP, u32 tilesH, u32 tilesW, u32 a, int padT, int padL,
                       float* restrict scratch) {
  const unsigned long plane = (unsigned long)tc * KP;
  for (u32 t = 0; t < tc; t++) {
    const tile_at tl = locate(t0 + t, tilesH, tilesW);
    const int h0 = (int)(tl.th * TM) - padT, w0 = (int)(tl.tw * TM) - padL;
    const float* image = x + (unsigned long)tl.image * H * W * K;
    const int inside = h0 >= 0 && w0 >= 0 && h0 + (int)a <= (int)H && w0 + (int)a <= (int)W;
    for (u32 c = 0; c < KP; c += 4) {
      // Rows: each row of d through Bᵀ, into scratch[i][·].
#pragma clang loop unroll(full)
      for (u32 i = 0; i < a; i++) {
        const int h = h0 + (int)i;
        f4 d[8], o[8];
        if (inside && c + 4 <= K) {
          load_n(d, image + ((unsigned long)h * W + w0) * K + c, K, a);
        } else {
          // A tile over the border (or the last, partial group of channels): the padding is zeros.
#pragma clang loop unroll(full)
          for (u32 j = 0; j < a; j++) {
            const int ww = w0 + (int)j;
            d[j] = h >= 0 && h < (int)H && ww >= 0 && ww < (int)W ? load_channels(image + ((unsigned long)h * W + ww) * K + c, c, K) : K4(0.f);
          }
        }
        bt(d, o, a);
        store_n(scratch + i * 4 * a, 4, o, a);
      }
      // Columns: ξ = α·(column transform) + row transform.
#pragma clang loop unroll(full)
      for (u32 j = 0; j < a; j++) {
        f4 d[8], o[8];
        load_n(d, scratch + j * 4, 4 * a, a);
        bt(d, o, a);
        store_n(v + (unsigned long)t * KP + c + j * plane, a * plane, o, a);
      }
    }
  }
}

// mo[ξ][t][NP] = v[ξ][t][K] · u[ξ] for every ξ < xis, four tiles by eight channels at a time.
INLINE void wino_products(const float* restrict v, const float* restrict u, float* restrict mo, u32 xis, u32 tc, u32 K, u32 NP) {
  const u32 panels = NP / 8;
  for (u32 xi = 0; xi < xis; xi++) {
    const float* A = v + (unsigned long)xi * tc * K;
    const float* B = u + (unsigned long)xi * NP * K;
    float* C = mo + (unsigned long)xi * tc * NP;
    u32 t = 0;
    for (; t + 4 <= tc; t += 4) {
      const float* a0 = A + (unsigned long)t * K;
      for (u32 p = 0; p < panels; p++) {
        const float* bp = B + (unsigned long)p * K * 8;
        f4 c0[4], c1[4];
        for (u32 i = 0; i < 4; i++) c0[i] = c1[i] = K4(0.f);
        for (u32 k = 0; k < K; k++) {
          const f4 b0 = wasm_v128_load(bp + k * 8), b1 = wasm_v128_load(bp + k * 8 + 4);
          for (u32 i = 0; i < 4; i++) {
            const f4 s = wasm_v128_load32_splat(a0 + i * K + k);
            c0[i] = ADD(c0[i], MUL(s, b0)), c1[i] = ADD(c1[i], MUL(s, b1));
          }
        }
        float* c = C + (unsigned long)t * NP + p * 8;
        store_n(c, NP, c0, 4);
        store_n(c + 4, NP, c1, 4);
      }
    }
    for (; t < tc; t++) {
      const float* a0 = A + (unsigned long)t * K;
      for (u32 p = 0; p < panels; p++) {
        const float* bp = B + (unsigned long)p * K * 8;
        f4 c0 = K4(0.f), c1 = K4(0.f);
        for (u32 k = 0; k < K; k++) {
          const f4 s = wasm_v128_load32_splat(a0 + k);
          c0 = ADD(c0, MUL(s, wasm_v128_load(bp + k * 8))), c1 = ADD(c1, MUL(s, wasm_v128_load(bp + k * 8 + 4)));
        }
        float* c = C + (unsigned long)t * NP + p * 8;
        wasm_v128_store(c, c0), wasm_v128_store(c + 4, c1);
      }
    }
  }
}

// The row pass of Aᵀ M A (n×n from α×α): s[k][·] = Aᵀ·M[k][·] for the α² vectors M[ξ] at p + ξ·plane,
// into scratch (row k at k·4n floats); the column pass loads column j from scratch + 4j, step 4n.
INLINE void at_rows(const float* p, unsigned long plane, u32 n, u32 a, float* scratch) {
#pragma clang loop unroll(full)
  for (u32 k = 0; k < a; k++) {
    f4 q[8], o[5];
    load_n(q, p + k * a * plane, plane, a);
    at(q, o, n, a);
    store_n(scratch + k * 4 * n, 4, o, n);
  }
}

// Aᵀ M A (+ bias, ReLU) for tiles [t0, t0 + tc), written where the 4×4 block lies inside the output.
// `scratch` holds 4α vectors.
INLINE void wino_output(const float* restrict mo, float* restrict y, const float* restrict bias, u32 relu, u32 t0, u32 tc, u32 outH, u32 outW, u32 N, u32 NP, u32 tilesH,
                        u32 tilesW, u32 a, float* restrict scratch) {
  const unsigned long plane = (unsigned long)tc * NP;
  for (u32 t = 0; t < tc; t++) {
    const tile_at tl = locate(t0 + t, tilesH, tilesW);
    const u32 h0 = tl.th * TM, w0 = tl.tw * TM;
    const u32 rows = outH - h0 < TM ? outH - h0 : TM, cols = outW - w0 < TM ? outW - w0 : TM;
    float* image = y + (unsigned long)tl.image * outH * outW * N;
    for (u32 c = 0; c < N; c += 4) {
      at_rows(mo + (unsigned long)t * NP + c, plane, TM, a, scratch);
      const f4 bv = bias ? wasm_v128_load(bias + c) : K4(0.f);
      for (u32 j = 0; j < cols; j++) {
        f4 q[8], o[4];
        load_n(q, scratch + j * 4, 4 * TM, a);
        at(q, o, TM, a);
#pragma clang loop unroll(full)
        for (u32 i = 0; i < TM; i++) {
          f4 val = ADD(o[i], bv);
          if (relu) val = wasm_f32x4_max(val, K4(0.f));
          if (i < rows) wasm_v128_store(image + ((unsigned long)(h0 + i) * outW + w0 + j) * N + c, val);
        }
      }
    }
  }
}

INLINE void conv_tiles(const float* restrict x, const float* restrict u, float* restrict y, const float* restrict bias, u32 relu, u32 batch, u32 H, u32 W, u32 K, u32 KP,
                       u32 outH, u32 outW, u32 N, u32 NP, u32 a, int padT, int padL, u32 chunk, float* restrict v, float* restrict mo, float* restrict scratch) {
  const u32 tilesH = (outH + TM - 1) / TM, tilesW = (outW + TM - 1) / TM;
  const u32 tiles = batch * tilesH * tilesW;
  for (u32 t0 = 0; t0 < tiles; t0 += chunk) {
    const u32 tc = tiles - t0 < chunk ? tiles - t0 : chunk;
    wino_input(x, v, t0, tc, H, W, K, KP, tilesH, tilesW, a, padT, padL, scratch);
    wino_products(v, u, mo, a * a, tc, KP, NP);
    wino_output(mo, y, bias, relu, t0, tc, outH, outW, N, NP, tilesH, tilesW, a, scratch);
  }
}

// A whole stride-1 convolution by F(4×4, r×r) on α×α tiles, `chunk` tiles at a time (v: α²·chunk·KP
// floats, mo: α²·chunk·NP, scratch: 64 vectors), from filters transformed by wino_filter. bias may be 0 (none).
EXPORT(wino_conv)
void wino_conv(const float* restrict x, const float* restrict u, float* restrict y, const float* restrict bias, u32 relu, u32 batch, u32 H, u32 W, u32 K, u32 KP, u32 outH,
               u32 outW, u32 N, u32 NP, u32 a, int padT, int padL, u32 chunk, float* restrict v, float* restrict mo, float* restrict scratch) {
  DISPATCH(a, conv_tiles(x, u, y, bias, relu, batch, H, W, K, KP, outH, outW, N, NP, 6, padT, padL, chunk, v, mo, scratch),
           conv_tiles(x, u, y, bias, relu, batch, H, W, K, KP, outH, outW, N, NP, 8, padT, padL, chunk, v, mo, scratch));
}

// ---- The filter gradient of the same convolutions, by F(r×r, 4×4) ----
// dW[kh][kw] = Σ_tiles Σ_{i,j<4} d[i+kh][j+kw]·dy[i][j] is, per α×α input tile d and 4×4 block of dy,
// a correlation of d with dy: A'ᵀ[(G' dy G'ᵀ) ⊙ (Bᵀ d B)]A', where G' (α×4) and A'ᵀ (r×α) are G and
// Aᵀ with 4 and r swapped. Summed over tiles, the α² sums are α² matrix products [K × tiles]·[tiles × N].

// G' dy G'ᵀ for tiles [t0, t0 + tc) and the NC channels from dy (pixels N floats apart), into
// wd[ξ][t − t0][NP] (columns NC..NP zero). `scratch` holds 4α vectors.
INLINE void wino_dy(const float* restrict dy, float* restrict wd, u32 t0, u32 tc, u32 outH, u32 outW, u32 N, u32 NC, u32 NP, u32 tilesH, u32 tilesW, u32 a,
                    float* restrict scratch) {
  const unsigned long plane = (unsigned long)tc * NP;
  for (u32 t = 0; t < tc; t++) {
    const tile_at tl = locate(t0 + t, tilesH, tilesW);
    const u32 h0 = tl.th * TM, w0 = tl.tw * TM;
    const u32 cols = outW - w0 < TM ? outW - w0 : TM;
    const float* image = dy + (unsigned long)tl.image * outH * outW * N;
    float* out = wd + (unsigned long)t * NP;
    for (u32 n = NC; n < NP; n += 4) {
      for (u32 xi = 0; xi < a * a; xi++) wasm_v128_store(out + xi * plane + n, K4(0.f));
    }
    for (u32 n = 0; n < NC; n += 4) {
      // Rows: the 4 values of each dy row → α, zeros past the output's edge.
#pragma clang loop unroll(full)
      for (u32 i = 0; i < TM; i++) {
        f4 q[4], o[8];
#pragma clang loop unroll(full)
        for (u32 j = 0; j < TM; j++) q[j] = h0 + i < outH && j < cols ? wasm_v128_load(image + ((unsigned long)(h0 + i) * outW + w0 + j) * N + n) : K4(0.f);
        g4(q, o, a);
        store_n(scratch + i * 4 * a, 4, o, a);
      }
      // Columns: the 4 rows → α.
#pragma clang loop unroll(full)
      for (u32 j = 0; j < a; j++) {
        f4 q[4], o[8];
        load_n(q, scratch + j * 4, 4 * a, TM);
        g4(q, o, a);
        store_n(out + n + j * plane, a * plane, o, a);
      }
    }
  }
}

// acc[ξ][K][NP] += v[ξ]ᵀ · wd[ξ] (v: [tc][K], wd: [tc][NP]) for ξ < xis, four input by eight output channels at a time.
INLINE void wino_grad_products(const float* restrict v, const float* restrict wd, float* restrict acc, u32 xis, u32 tc, u32 K, u32 NP) {
  const u32 panels = NP / 8;
  for (u32 xi = 0; xi < xis; xi++) {
    const float* A = v + (unsigned long)xi * tc * K;
    const float* B = wd + (unsigned long)xi * tc * NP;
    float* C = acc + (unsigned long)xi * K * NP;
    for (u32 k = 0; k < K; k += 4) {
      for (u32 p = 0; p < panels; p++) {
        f4 c0[4], c1[4];
        for (u32 i = 0; i < 4; i++) c0[i] = c1[i] = K4(0.f);
        const float* ap = A + k;
        const float* bp = B + p * 8;
        for (u32 t = 0; t < tc; t++, ap += K, bp += NP) {
          const f4 b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
          for (u32 i = 0; i < 4; i++) {
            const f4 s = wasm_v128_load32_splat(ap + i);
            c0[i] = ADD(c0[i], MUL(s, b0)), c1[i] = ADD(c1[i], MUL(s, b1));
          }
        }
        float* c = C + (unsigned long)k * NP + p * 8;
        for (u32 i = 0; i < 4; i++, c += NP) {
          wasm_v128_store(c, ADD(wasm_v128_load(c), c0[i]));
          wasm_v128_store(c + 4, ADD(wasm_v128_load(c + 4), c1[i]));
        }
      }
    }
  }
}

INLINE void filter_grad_tiles(const float* restrict x, const float* restrict dy, float* restrict dw, u32 batch, u32 H, u32 W, u32 K, u32 KP, u32 outH, u32 outW, u32 N,
                              u32 NC, u32 NP, u32 a, int padT, int padL, u32 chunk, float* restrict v, float* restrict wd, float* restrict acc,
                              float* restrict scratch) {
  const u32 r = a - 3;
  const u32 tilesH = (outH + TM - 1) / TM, tilesW = (outW + TM - 1) / TM;
  const u32 tiles = batch * tilesH * tilesW;
  const unsigned long accFloats = (unsigned long)a * a * KP * NP;
  for (unsigned long i = 0; i < accFloats; i++) acc[i] = 0.f;
  for (u32 t0 = 0; t0 < tiles; t0 += chunk) {
    const u32 tc = tiles - t0 < chunk ? tiles - t0 : chunk;
    wino_input(x, v, t0, tc, H, W, K, KP, tilesH, tilesW, a, padT, padL, scratch);
    wino_dy(dy, wd, t0, tc, outH, outW, N, NC, NP, tilesH, tilesW, a, scratch);
    wino_grad_products(v, wd, acc, a * a, tc, KP, NP);
  }
  const unsigned long plane = (unsigned long)KP * NP;
  for (u32 k = 0; k < K; k++) {
    for (u32 n = 0; n < NC; n += 4) {
      // dW = A'ᵀ M A': rows, then each column kw through A'ᵀ gives dW[·][kw].
      at_rows(acc + (unsigned long)k * NP + n, plane, r, a, scratch);
#pragma clang loop unroll(full)
      for (u32 kw = 0; kw < r; kw++) {
        f4 q[8], o[5];
        load_n(q, scratch + kw * 4, 4 * r, a);
        at(q, o, r, a);
        store_n(dw + ((unsigned long)kw * K + k) * N + n, (unsigned long)r * K * N, o, r);
      }
    }
  }
}

// The filter gradient dW [r][r][K][N] of a stride-1 convolution of x [batch, H, W, K] giving dy
// [batch, outH, outW, N], for the NC output channels (a multiple of 4) from where dy and dw point
// (rows of both N floats long): every thread computes its own channels over all images, so each value
// is summed in the same order whatever the number of threads. `chunk` tiles at a time (v: α²·chunk·KP
// floats, wd: α²·chunk·NP with NP = NC rounded up to 8, acc: α²·KP·NP, scratch: 64 vectors).
EXPORT(wino_filter_grad)
void wino_filter_grad(const float* restrict x, const float* restrict dy, float* restrict dw, u32 batch, u32 H, u32 W, u32 K, u32 KP, u32 outH, u32 outW, u32 N, u32 NC,
                      u32 NP, u32 a, int padT, int padL, u32 chunk, float* restrict v, float* restrict wd, float* restrict acc, float* restrict scratch) {
  DISPATCH(a, filter_grad_tiles(x, dy, dw, batch, H, W, K, KP, outH, outW, N, NC, NP, 6, padT, padL, chunk, v, wd, acc, scratch),
           filter_grad_tiles(x, dy, dw, batch, H, W, K, KP, outH, outW, N, NC, NP, 8, padT, padL, chunk, v, wd, acc, scratch));
}
