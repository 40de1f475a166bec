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

// ---- Winograd convolution F(m×m, r×r) with m + r − 1 = 6: F(4×4, 3×3) and F(2×2, 5×5) ----
// Stride 1, NHWC, HWIO filters, channels a multiple of 4. Points 0, ±1, ±2, ∞ (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A over 6×6 input
// tiles, with one 6×6 data transform Bᵀ for both sizes. The 36 products ⊙, summed over input
// channels, are 36 matrix products [tiles × K]·[K × N]: 36 instead of m²·r² multiply-adds per tile
// and channel pair (2.25× fewer for 3×3, 2.8× for 5×5). Vectors run across four channels.

typedef v128_t f4;
// Inlined into each exported entry point, so that r and m are constants there (loops unrolled).
#define INLINE static inline __attribute__((always_inline))
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define K4(v) wasm_f32x4_splat(v)

// o = Bᵀ·(d0..d5), each a vector of four channels.
#define BT6(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5)                  \
  do {                                                                        \
    const f4 s12_ = ADD(d1, d2), s34_ = ADD(d3, d4);                          \
    const f4 d42_ = SUB(d4, d2), d31_ = SUB(d3, d1);                          \
    o0 = ADD(SUB(MUL(K4(4.f), d0), MUL(K4(5.f), d2)), d4);                    \
    o1 = SUB(s34_, MUL(K4(4.f), s12_));                                       \
    o2 = ADD(SUB(d4, d3), MUL(K4(4.f), SUB(d1, d2)));                          \
    o3 = ADD(d42_, MUL(K4(2.f), d31_));                                       \
    o4 = SUB(d42_, MUL(K4(2.f), d31_));                                       \
    o5 = ADD(SUB(MUL(K4(4.f), d1), MUL(K4(5.f), d3)), d5);                    \
  } while (0)

// o = Aᵀ·(v0..v5) for m = 4 (o0..o3) or m = 2 (o0, o1; v5 lands on the last output).
#define AT6(m, v0, v1, v2, v3, v4, v5, o0, o1, o2, o3)                        \
  do {                                                                        \
    const f4 s12_ = ADD(v1, v2), d12_ = SUB(v1, v2);                          \
    const f4 s34_ = ADD(v3, v4), d34_ = SUB(v3, v4);                          \
    o0 = ADD(ADD(v0, s12_), s34_);                                            \
    o1 = ADD(d12_, MUL(K4(2.f), d34_));                                       \
    o2 = ADD(s12_, MUL(K4(4.f), s34_));                                       \
    o3 = ADD(ADD(d12_, MUL(K4(8.f), d34_)), v5);                              \
    if (m == 2) o1 = ADD(o1, v5);                                             \
  } while (0)

// G (6×r): row j < 5 is c_j·p_j^a with p = 0, 1, −1, 2, −2 and c = 1/4, −1/6, −1/6, 1/24, 1/24; row 5 picks g_{r−1}.
static inline float gcoef(u32 j, u32 a, u32 r) {
  if (j == 5) return a == r - 1 ? 1.f : 0.f;
  const float c = j == 0 ? 0.25f : j < 3 ? -1.f / 6.f : 1.f / 24.f;
  const float p = j == 0 ? 0.f : j == 1 ? 1.f : j == 2 ? -1.f : j == 3 ? 2.f : -2.f;
  float v = c;
  for (u32 i = 0; i < a; i++) v *= p;
  return v;
}

// U = G g Gᵀ for every (k, n) of an HWIO filter [r][r][K][N], packed for wino_conv's products as
// u[ξ][n / 8][k][n % 8] with K rounded up to KP (a multiple of 4) and N to NP (of 8), the padding zero.
// `scratch` holds 32 + 6·r·4 floats (16-byte aligned): G, then one (k, n..n+3) block of G g.
INLINE void filter_transform(const float* restrict w, float* restrict u, u32 r, u32 K, u32 KP, u32 N, u32 NP, float* restrict scratch) {
  const unsigned long xiStride = (unsigned long)NP * KP;
  if (N != NP || K != KP) {
    for (unsigned long i = 0; i < 36 * xiStride; i++) u[i] = 0.f;
  }
  float* G = scratch;
  float* tb = scratch + 32;
  for (u32 j = 0; j < 6; j++) {
    for (u32 a = 0; a < r; a++) G[j * r + a] = gcoef(j, a, r);
  }
  // n outer, k inner: each ξ's packed block is then written in order.
  for (u32 n = 0; n < N; n += 4) {
    for (u32 k = 0; k < K; k++) {
      // t[j][b] = Σ_a G[j][a] g[a][b], four output channels at a time.
      for (u32 b = 0; b < r; b++) {
        for (u32 j = 0; j < 6; j++) {
          f4 s = K4(0.f);
          for (u32 a = 0; a < r; a++) {
            s = ADD(s, MUL(K4(G[j * r + a]), wasm_v128_load(w + ((unsigned long)(a * r + b) * K + k) * N + n)));
          }
          wasm_v128_store(tb + (j * r + b) * 4, s);
        }
      }
      // U[j][i] = Σ_b t[j][b] G[i][b].
      float* dst = u + ((unsigned long)(n / 8) * KP + k) * 8 + n % 8;
      for (u32 j = 0; j < 6; j++) {
        for (u32 i = 0; i < 6; i++) {
          f4 s = K4(0.f);
          for (u32 b = 0; b < r; b++) {
            s = ADD(s, MUL(K4(G[i * r + b]), wasm_v128_load(tb + (j * r + b) * 4)));
          }
          wasm_v128_store(dst + (j * 6 + i) * xiStride, s);
        }
      }
    }
  }
}

EXPORT(wino_filter)
void wino_filter(const float* restrict w, float* restrict u, u32 r, u32 K, u32 KP, u32 N, u32 NP, float* restrict scratch) {
  if (r == 3) {
    filter_transform(w, u, 3, K, KP, N, NP, scratch);
  } else {
    filter_transform(w, u, 5, K, KP, N, NP, scratch);
  }
}

// Four channels from c of a pixel: all four below K, else the first K − c and zeros.
static inline f4 load_channels(const float* p, u32 c, u32 K) {
  if (c + 4 <= K) return wasm_v128_load(p);
  const u32 left = K - c;
  return wasm_f32x4_make(p[0], left > 1 ? p[1] : 0.f, left > 2 ? p[2] : 0.f, 0.f);
}

// Bᵀ d B for tiles [t0, t0 + tc) (numbered over batch × tilesH × tilesW), into v[ξ][t − t0][KP]
// (channels K..KP zero).
// `scratch` holds 42 vectors.
INLINE void wino_input(const float* restrict x, float* restrict v, u32 t0, u32 tc, u32 H, u32 W, u32 K, u32 KP, u32 tilesH, u32 tilesW, u32 m, int padT, int padL,
                       float* restrict scratch) {
  const unsigned long plane = (unsigned long)tc * KP;
  const u32 perImage = tilesH * tilesW;
  for (u32 t = 0; t < tc; t++) {
    const u32 g = t0 + t;
    const u32 b = g / perImage, th = (g % perImage) / tilesW, tw = g % tilesW;
    const int h0 = (int)(th * m) - padT, w0 = (int)(tw * m) - padL;
    const float* image = x + (unsigned long)b * H * W * K;
    const int inside = h0 >= 0 && w0 >= 0 && h0 + 6 <= (int)H && w0 + 6 <= (int)W;
    for (u32 c = 0; c < KP; c += 4) {
      for (u32 i = 0; i < 6; i++) {
        const int h = h0 + (int)i;
        f4 d0, d1, d2, d3, d4, d5;
        if (inside && c + 4 <= K) {
          const float* row = image + ((unsigned long)h * W + w0) * K + c;
          d0 = wasm_v128_load(row);
          d1 = wasm_v128_load(row + K);
          d2 = wasm_v128_load(row + 2 * K);
          d3 = wasm_v128_load(row + 3 * K);
          d4 = wasm_v128_load(row + 4 * K);
          d5 = wasm_v128_load(row + 5 * K);
        } else {
          // A tile over the border: the padding is zeros.
          float* row = scratch + 144;
          for (u32 j = 0; j < 6; j++) {
            const int ww = w0 + (int)j;
            wasm_v128_store(row + 4 * j, h >= 0 && h < (int)H && ww >= 0 && ww < (int)W ? load_channels(image + ((unsigned long)h * W + ww) * K + c, c, K) : K4(0.f));
          }
          d0 = wasm_v128_load(row), d1 = wasm_v128_load(row + 4), d2 = wasm_v128_load(row + 8);
          d3 = wasm_v128_load(row + 12), d4 = wasm_v128_load(row + 16), d5 = wasm_v128_load(row + 20);
        }
        f4 o0, o1, o2, o3, o4, o5;
        BT6(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5);
        float* s = scratch + i * 24;
        wasm_v128_store(s, o0);
        wasm_v128_store(s + 4, o1);
        wasm_v128_store(s + 8, o2);
        wasm_v128_store(s + 12, o3);
        wasm_v128_store(s + 16, o4);
        wasm_v128_store(s + 20, o5);
      }
      float* out = v + (unsigned long)t * KP + c;
      for (u32 j = 0; j < 6; j++) {
        const float* s = scratch + j * 4;
        f4 o0, o1, o2, o3, o4, o5;
        BT6(wasm_v128_load(s), wasm_v128_load(s + 24), wasm_v128_load(s + 48), wasm_v128_load(s + 72), wasm_v128_load(s + 96), wasm_v128_load(s + 120), o0, o1, o2,
            o3, o4, o5);
        wasm_v128_store(out + (0 * 6 + j) * plane, o0);
        wasm_v128_store(out + (1 * 6 + j) * plane, o1);
        wasm_v128_store(out + (2 * 6 + j) * plane, o2);
        wasm_v128_store(out + (3 * 6 + j) * plane, o3);
        wasm_v128_store(out + (4 * 6 + j) * plane, o4);
        wasm_v128_store(out + (5 * 6 + j) * plane, o5);
      }
    }
  }
}

// mo[ξ][t][NP] = v[ξ][t][K] · u[ξ] for every ξ, four tiles by eight channels at a time.
static void wino_products(const float* restrict v, const float* restrict u, float* restrict mo, u32 tc, u32 K, u32 NP) {
  const u32 panels = NP / 8;
  for (u32 xi = 0; xi < 36; xi++) {
    const float* A = v + (unsigned long)xi * tc * K;
    const float* B = u + (unsigned long)xi * NP * K;
    float* C = mo + (unsigned long)xi * tc * NP;
    u32 t = 0;
    for (; t + 4 <= tc; t += 4) {
      const float* a0 = A + (unsigned long)t * K;
      const float* a1 = a0 + K;
      const float* a2 = a1 + K;
      const float* a3 = a2 + K;
      for (u32 p = 0; p < panels; p++) {
        const float* bp = B + (unsigned long)p * K * 8;
        f4 c00 = K4(0.f), c01 = K4(0.f), c10 = K4(0.f), c11 = K4(0.f), c20 = K4(0.f), c21 = K4(0.f), c30 = K4(0.f), c31 = K4(0.f);
        for (u32 k = 0; k < K; k++) {
          const f4 b0 = wasm_v128_load(bp + k * 8), b1 = wasm_v128_load(bp + k * 8 + 4);
          f4 a = wasm_v128_load32_splat(a0 + k);
          c00 = ADD(c00, MUL(a, b0)), c01 = ADD(c01, MUL(a, b1));
          a = wasm_v128_load32_splat(a1 + k);
          c10 = ADD(c10, MUL(a, b0)), c11 = ADD(c11, MUL(a, b1));
          a = wasm_v128_load32_splat(a2 + k);
          c20 = ADD(c20, MUL(a, b0)), c21 = ADD(c21, MUL(a, b1));
          a = wasm_v128_load32_splat(a3 + k);
          c30 = ADD(c30, MUL(a, b0)), c31 = ADD(c31, MUL(a, b1));
        }
        float* c = C + (unsigned long)t * NP + p * 8;
        wasm_v128_store(c, c00), wasm_v128_store(c + 4, c01);
        wasm_v128_store(c + NP, c10), wasm_v128_store(c + NP + 4, c11);
        wasm_v128_store(c + 2 * NP, c20), wasm_v128_store(c + 2 * NP + 4, c21);
        wasm_v128_store(c + 3 * NP, c30), wasm_v128_store(c + 3 * NP + 4, c31);
      }
    }
    for (; t < tc; t++) {
      const float* a0 = A + (unsigned long)t * K;
      for (u32 p = 0; p < panels; p++) {
        const float* bp = B + (unsigned long)p * K * 8;
        f4 c00 = K4(0.f), c01 = K4(0.f);
        for (u32 k = 0; k < K; k++) {
          const f4 a = wasm_v128_load32_splat(a0 + k);
          c00 = ADD(c00, MUL(a, wasm_v128_load(bp + k * 8))), c01 = ADD(c01, MUL(a, wasm_v128_load(bp + k * 8 + 4)));
        }
        float* c = C + (unsigned long)t * NP + p * 8;
        wasm_v128_store(c, c00), wasm_v128_store(c + 4, c01);
      }
    }
  }
}

// Aᵀ M A (+ bias, ReLU) for tiles [t0, t0 + tc), written where the m×m block lies inside the output.
// `scratch` holds 28 vectors.
INLINE void wino_output(const float* restrict mo, float* restrict y, const float* restrict bias, u32 relu, u32 t0, u32 tc, u32 outH, u32 outW, u32 N, u32 NP, u32 tilesH,
                        u32 tilesW, u32 m, float* restrict scratch) {
  const unsigned long plane = (unsigned long)tc * NP;
  const u32 perImage = tilesH * tilesW;
  for (u32 t = 0; t < tc; t++) {
    const u32 g = t0 + t;
    const u32 b = g / perImage, th = (g % perImage) / tilesW, tw = g % tilesW;
    const u32 h0 = th * m, w0 = tw * m;
    const u32 rows = outH - h0 < m ? outH - h0 : m, cols = outW - w0 < m ? outW - w0 : m;
    float* image = y + (unsigned long)b * outH * outW * N;
    for (u32 c = 0; c < N; c += 4) {
      const float* in = mo + (unsigned long)t * NP + c;
      // Rows: s[k][i] = Σ_j Aᵀ[i][j] M[k][j].
      for (u32 k = 0; k < 6; k++) {
        const float* q = in + k * 6 * plane;
        f4 o0, o1, o2, o3;
        AT6(m, wasm_v128_load(q), wasm_v128_load(q + plane), wasm_v128_load(q + 2 * plane), wasm_v128_load(q + 3 * plane), wasm_v128_load(q + 4 * plane),
            wasm_v128_load(q + 5 * plane), o0, o1, o2, o3);
        float* s = scratch + k * 16;
        wasm_v128_store(s, o0);
        wasm_v128_store(s + 4, o1);
        wasm_v128_store(s + 8, o2);
        wasm_v128_store(s + 12, o3);
      }
      const f4 bv = bias ? wasm_v128_load(bias + c) : K4(0.f);
      for (u32 j = 0; j < cols; j++) {
        const float* s = scratch + j * 4;
        f4 o0, o1, o2, o3;
        AT6(m, wasm_v128_load(s), wasm_v128_load(s + 16), wasm_v128_load(s + 32), wasm_v128_load(s + 48), wasm_v128_load(s + 64), wasm_v128_load(s + 80), o0, o1, o2,
            o3);
        float* col = scratch + 96;
        wasm_v128_store(col, o0);
        wasm_v128_store(col + 4, o1);
        wasm_v128_store(col + 8, o2);
        wasm_v128_store(col + 12, o3);
        for (u32 i = 0; i < rows; i++) {
          f4 val = ADD(wasm_v128_load(col + 4 * i), bv);
          if (relu) val = wasm_f32x4_max(val, K4(0.f));
          wasm_v128_store(image + ((unsigned long)(h0 + i) * outW + w0 + j) * N + c, val);
        }
      }
    }
  }
}

// A whole stride-1 convolution by F(m×m, r×r), tc tiles at a time (v: 36·tc·KP floats, mo: 36·tc·NP,
// scratch: 42 vectors = 168 floats), from filters already transformed by wino_filter. bias may be 0 (none).
INLINE void conv_tiles(const float* restrict x, const float* restrict u, float* restrict y, const float* restrict bias, u32 relu, u32 batch, u32 H, u32 W, u32 K, u32 KP,
                       u32 outH, u32 outW, u32 N, u32 NP, u32 m, int padT, int padL, u32 chunk, float* restrict v, float* restrict mo, float* restrict scratch) {
  const u32 tilesH = (outH + m - 1) / m, tilesW = (outW + m - 1) / m;
  const u32 tiles = batch * tilesH * tilesW;
  for (u32 t0 = 0; t0 < tiles; t0 += chunk) {
    const u32 tc = tiles - t0 < chunk ? tiles - t0 : chunk;
    wino_input(x, v, t0, tc, H, W, K, KP, tilesH, tilesW, m, padT, padL, scratch);
    wino_products(v, u, mo, tc, KP, NP);
    wino_output(mo, y, bias, relu, t0, tc, outH, outW, N, NP, tilesH, tilesW, m, scratch);
  }
}

EXPORT(wino_conv)
void wino_conv(const float* restrict x, const float* restrict u, float* restrict y, const float* restrict bias, u32 relu, u32 batch, u32 H, u32 W, u32 K, u32 KP, u32 outH,
               u32 outW, u32 N, u32 NP, u32 m, int padT, int padL, u32 chunk, float* restrict v, float* restrict mo, float* restrict scratch) {
  if (m == 4) {
    conv_tiles(x, u, y, bias, relu, batch, H, W, K, KP, outH, outW, N, NP, 4, padT, padL, chunk, v, mo, scratch);
  } else {
    conv_tiles(x, u, y, bias, relu, batch, H, W, K, KP, outH, outW, N, NP, 2, padT, padL, chunk, v, mo, scratch);
  }
}

// ---- The filter gradient of the same convolutions, by F(r×r, m×m) ----
// dW[kh][kw] = Σ_tiles Σ_{i,j<m} d[i+kh][j+kw]·dy[i][j] is, per 6×6 input tile d and m×m block of dy,
// a correlation of d with dy: A'ᵀ[(G' dy G'ᵀ) ⊙ (Bᵀ d B)]A', where G' (6×m) and A'ᵀ (r×6) are G and
// Aᵀ with m and r swapped. Summed over tiles, the 36 sums are 36 matrix products [K × tiles]·[tiles × N].

// o = G'·(g0..g3) for an m-point dy row (m = 4, or 2 with g2 = g3 unused).
#define GT6(m, g0, g1, g2, g3, o0, o1, o2, o3, o4, o5)                              \
  do {                                                                               \
    const f4 e_ = m == 4 ? ADD(g0, g2) : g0, od_ = m == 4 ? ADD(g1, g3) : g1;         \
    const f4 e2_ = m == 4 ? ADD(g0, MUL(K4(4.f), g2)) : g0;                           \
    const f4 od2_ = m == 4 ? ADD(MUL(K4(2.f), g1), MUL(K4(8.f), g3)) : MUL(K4(2.f), g1); \
    o0 = MUL(K4(0.25f), g0);                                                         \
    o1 = MUL(K4(-1.f / 6.f), ADD(e_, od_));                                          \
    o2 = MUL(K4(-1.f / 6.f), SUB(e_, od_));                                          \
    o3 = MUL(K4(1.f / 24.f), ADD(e2_, od2_));                                        \
    o4 = MUL(K4(1.f / 24.f), SUB(e2_, od2_));                                        \
    o5 = m == 4 ? g3 : g1;                                                           \
  } while (0)

// G' dy G'ᵀ for tiles [t0, t0 + tc), into wd[ξ][t − t0][NP] (columns N..NP zero). `scratch` holds 24 vectors.
INLINE void wino_dy(const float* restrict dy, float* restrict wd, u32 t0, u32 tc, u32 outH, u32 outW, u32 N, u32 NP, u32 tilesH, u32 tilesW, u32 m,
                    float* restrict scratch) {
  const unsigned long plane = (unsigned long)tc * NP;
  const u32 perImage = tilesH * tilesW;
  for (u32 t = 0; t < tc; t++) {
    const u32 g = t0 + t;
    const u32 b = g / perImage, th = (g % perImage) / tilesW, tw = g % tilesW;
    const u32 h0 = th * m, w0 = tw * m;
    const float* image = dy + (unsigned long)b * outH * outW * N;
    float* out = wd + (unsigned long)t * NP;
    for (u32 n = N; n < NP; n += 4) {
      for (u32 xi = 0; xi < 36; xi++) wasm_v128_store(out + xi * plane + n, K4(0.f));
    }
    for (u32 n = 0; n < N; n += 4) {
      // Rows: the m values of each dy row → 6, zeros past the output's edge.
      for (u32 i = 0; i < m; i++) {
        f4 q0 = K4(0.f), q1 = K4(0.f), q2 = K4(0.f), q3 = K4(0.f);
        if (h0 + i < outH) {
          const float* row = image + ((unsigned long)(h0 + i) * outW + w0) * N + n;
          const u32 cols = outW - w0 < m ? outW - w0 : m;
          if (cols > 0) q0 = wasm_v128_load(row);
          if (cols > 1) q1 = wasm_v128_load(row + N);
          if (cols > 2) q2 = wasm_v128_load(row + 2 * N);
          if (cols > 3) q3 = wasm_v128_load(row + 3 * N);
        }
        f4 o0, o1, o2, o3, o4, o5;
        GT6(m, q0, q1, q2, q3, o0, o1, o2, o3, o4, o5);
        float* s = scratch + i * 24;
        wasm_v128_store(s, o0);
        wasm_v128_store(s + 4, o1);
        wasm_v128_store(s + 8, o2);
        wasm_v128_store(s + 12, o3);
        wasm_v128_store(s + 16, o4);
        wasm_v128_store(s + 20, o5);
      }
      // Columns: the m rows → 6.
      for (u32 j = 0; j < 6; j++) {
        const float* s = scratch + j * 4;
        const f4 z = K4(0.f);
        f4 o0, o1, o2, o3, o4, o5;
        GT6(m, wasm_v128_load(s), wasm_v128_load(s + 24), m == 4 ? wasm_v128_load(s + 48) : z, m == 4 ? wasm_v128_load(s + 72) : z, o0, o1, o2, o3, o4, o5);
        wasm_v128_store(out + (0 * 6 + j) * plane + n, o0);
        wasm_v128_store(out + (1 * 6 + j) * plane + n, o1);
        wasm_v128_store(out + (2 * 6 + j) * plane + n, o2);
        wasm_v128_store(out + (3 * 6 + j) * plane + n, o3);
        wasm_v128_store(out + (4 * 6 + j) * plane + n, o4);
        wasm_v128_store(out + (5 * 6 + j) * plane + n, o5);
      }
    }
  }
}

// acc[ξ][K][NP] += v[ξ]ᵀ · wd[ξ] (v: [tc][K], wd: [tc][NP]), four input by eight output channels at a time.
static void wino_grad_products(const float* restrict v, const float* restrict wd, float* restrict acc, u32 tc, u32 K, u32 NP) {
  const u32 panels = NP / 8;
  for (u32 xi = 0; xi < 36; xi++) {
    const float* A = v + (unsigned long)xi * tc * K;
    const float* B = wd + (unsigned long)xi * tc * NP;
    float* C = acc + (unsigned long)xi * K * NP;
    for (u32 k = 0; k < K; k += 4) {
      for (u32 p = 0; p < panels; p++) {
        f4 c00 = K4(0.f), c01 = K4(0.f), c10 = K4(0.f), c11 = K4(0.f), c20 = K4(0.f), c21 = K4(0.f), c30 = K4(0.f), c31 = K4(0.f);
        const float* a = A + k;
        const float* bp = B + p * 8;
        for (u32 t = 0; t < tc; t++, a += K, bp += NP) {
          const f4 b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
          f4 s = wasm_v128_load32_splat(a);
          c00 = ADD(c00, MUL(s, b0)), c01 = ADD(c01, MUL(s, b1));
          s = wasm_v128_load32_splat(a + 1);
          c10 = ADD(c10, MUL(s, b0)), c11 = ADD(c11, MUL(s, b1));
          s = wasm_v128_load32_splat(a + 2);
          c20 = ADD(c20, MUL(s, b0)), c21 = ADD(c21, MUL(s, b1));
          s = wasm_v128_load32_splat(a + 3);
          c30 = ADD(c30, MUL(s, b0)), c31 = ADD(c31, MUL(s, b1));
        }
        float* c = C + (unsigned long)k * NP + p * 8;
        wasm_v128_store(c, ADD(wasm_v128_load(c), c00)), wasm_v128_store(c + 4, ADD(wasm_v128_load(c + 4), c01));
        c += NP;
        wasm_v128_store(c, ADD(wasm_v128_load(c), c10)), wasm_v128_store(c + 4, ADD(wasm_v128_load(c + 4), c11));
        c += NP;
        wasm_v128_store(c, ADD(wasm_v128_load(c), c20)), wasm_v128_store(c + 4, ADD(wasm_v128_load(c + 4), c21));
        c += NP;
        wasm_v128_store(c, ADD(wasm_v128_load(c), c30)), wasm_v128_store(c + 4, ADD(wasm_v128_load(c + 4), c31));
      }
    }
  }
}

// o = A'ᵀ·(v0..v5) for r = 3 (o0..o2) or r = 5 (o0..o4); v5 lands on the last output.
#define ATR6(r, v0, v1, v2, v3, v4, v5, o0, o1, o2, o3, o4)                   \
  do {                                                                        \
    const f4 s12_ = ADD(v1, v2), d12_ = SUB(v1, v2);                          \
    const f4 s34_ = ADD(v3, v4), d34_ = SUB(v3, v4);                          \
    o0 = ADD(ADD(v0, s12_), s34_);                                            \
    o1 = ADD(d12_, MUL(K4(2.f), d34_));                                       \
    o2 = ADD(s12_, MUL(K4(4.f), s34_));                                       \
    o3 = ADD(d12_, MUL(K4(8.f), d34_));                                       \
    o4 = ADD(ADD(s12_, MUL(K4(16.f), s34_)), v5);                             \
    if (r == 3) o2 = ADD(o2, v5);                                             \
  } while (0)

// The filter gradient dW [r][r][K][N] of a stride-1 convolution of x [batch, H, W, K] giving dy
// [batch, outH, outW, N], tc tiles at a time (v: 36·chunk·KP floats, wd: 36·chunk·NP, acc: 36·KP·NP,
// scratch: 42 vectors).
INLINE void filter_grad_tiles(const float* restrict x, const float* restrict dy, float* restrict dw, u32 batch, u32 H, u32 W, u32 K, u32 KP, u32 outH, u32 outW, u32 N,
                              u32 NP, u32 r, u32 m, int padT, int padL, u32 chunk, float* restrict v, float* restrict wd, float* restrict acc, float* restrict scratch) {
  const u32 tilesH = (outH + m - 1) / m, tilesW = (outW + m - 1) / m;
  const u32 tiles = batch * tilesH * tilesW;
  const unsigned long accFloats = 36ul * KP * NP;
  for (unsigned long i = 0; i < accFloats; i++) acc[i] = 0.f;
  for (u32 t0 = 0; t0 < tiles; t0 += chunk) {
    const u32 tc = tiles - t0 < chunk ? tiles - t0 : chunk;
    wino_input(x, v, t0, tc, H, W, K, KP, tilesH, tilesW, m, padT, padL, scratch);
    wino_dy(dy, wd, t0, tc, outH, outW, N, NP, tilesH, tilesW, m, scratch);
    wino_grad_products(v, wd, acc, tc, KP, NP);
  }
  const unsigned long plane = (unsigned long)KP * NP;
  for (u32 k = 0; k < K; k++) {
    for (u32 n = 0; n < N; n += 4) {
      const float* in = acc + (unsigned long)k * NP + n;
      // Rows: s[j0][kw] = Σ_j1 A'ᵀ[kw][j1] M[j0][j1].
      for (u32 j0 = 0; j0 < 6; j0++) {
        const float* q = in + j0 * 6 * plane;
        f4 o0, o1, o2, o3, o4;
        ATR6(r, wasm_v128_load(q), wasm_v128_load(q + plane), wasm_v128_load(q + 2 * plane), wasm_v128_load(q + 3 * plane), wasm_v128_load(q + 4 * plane),
             wasm_v128_load(q + 5 * plane), o0, o1, o2, o3, o4);
        float* s = scratch + j0 * 20;
        wasm_v128_store(s, o0);
        wasm_v128_store(s + 4, o1);
        wasm_v128_store(s + 8, o2);
        wasm_v128_store(s + 12, o3);
        wasm_v128_store(s + 16, o4);
      }
      // Columns: dW[kh][kw] = Σ_j0 A'ᵀ[kh][j0] s[j0][kw].
      for (u32 kw = 0; kw < r; kw++) {
        const float* s = scratch + kw * 4;
        f4 o0, o1, o2, o3, o4;
        ATR6(r, wasm_v128_load(s), wasm_v128_load(s + 20), wasm_v128_load(s + 40), wasm_v128_load(s + 60), wasm_v128_load(s + 80), wasm_v128_load(s + 100), o0, o1,
             o2, o3, o4);
        float* col = scratch + 120;
        wasm_v128_store(col, o0);
        wasm_v128_store(col + 4, o1);
        wasm_v128_store(col + 8, o2);
        wasm_v128_store(col + 12, o3);
        wasm_v128_store(col + 16, o4);
        for (u32 kh = 0; kh < r; kh++) {
          wasm_v128_store(dw + ((unsigned long)(kh * r + kw) * K + k) * N + n, wasm_v128_load(col + 4 * kh));
        }
      }
    }
  }
}

EXPORT(wino_filter_grad)
void wino_filter_grad(const float* restrict x, const float* restrict dy, float* restrict dw, u32 batch, u32 H, u32 W, u32 K, u32 KP, u32 outH, u32 outW, u32 N, u32 NP, u32 r,
                      u32 m, int padT, int padL, u32 chunk, float* restrict v, float* restrict wd, float* restrict acc, float* restrict scratch) {
  if (r == 3) {
    filter_grad_tiles(x, dy, dw, batch, H, W, K, KP, outH, outW, N, NP, 3, 4, padT, padL, chunk, v, wd, acc, scratch);
  } else {
    filter_grad_tiles(x, dy, dw, batch, H, W, K, KP, outH, outW, N, NP, 5, 2, padT, padL, chunk, v, wd, acc, scratch);
  }
}
