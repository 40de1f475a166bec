// Browser-only: activates tfjs' webgpu or webgl backend in a compute page, names the adapter it runs
// on, watches for a lost device, and measures a short training step (auto's measured probe).
// Never imported by Node code: @tensorflow/tfjs-backend-webgpu is loaded here only.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { AdapterDescription, ComputeBackend } from '../train/compute-protocol.js';
import { adapterLabelOf as adapterLabel } from './webgpu-host.js';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(o?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|warp|basic render|software/i;

/** Names the GPU a backend would use, or says why there is none. */
export async function describeAdapter(backend: ComputeBackend): Promise<AdapterDescription | { unavailable: string }> {
  if (backend === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
    if (!gpu) {
      return { unavailable: 'this browser has no WebGPU (navigator.gpu is missing; it needs a secure context and a supported GPU)' };
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      return { unavailable: 'WebGPU found no adapter (no supported GPU or driver)' };
    }
    const info = adapter.info ?? {};
    const words = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`;
    return {
      backend,
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      software: !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || SOFTWARE.test(words),
    };
  }
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) {
    return { unavailable: 'WebGL 2 is not available in this browser' };
  }
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  const vendor = String(ext ? gl.getParameter(ext.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR));
  return { backend, vendor, architecture: '', device: '', description: renderer, software: SOFTWARE.test(`${vendor} ${renderer}`) };
}


/** Switches tfjs to `backend` and names its adapter; throws with the reason when it cannot. */
export async function activateComputeBackend(backend: ComputeBackend): Promise<AdapterDescription> {
  const adapter = await describeAdapter(backend);
  if ('unavailable' in adapter) {
    throw new Error(`The ${backend} backend is not available: ${adapter.unavailable}.`);
  }
  if (!(await tf.setBackend(backend))) {
    throw new Error(`The ${backend} backend failed to initialise on ${adapterLabel(adapter)}.`);
  }
  await tf.ready();
  return adapter;
}

/** Calls `onLost` once if the active backend's GPU device (webgpu) or context (webgl) is lost. */
export function watchDeviceLoss(onLost: (message: string) => void): void {
  const backend = tf.backend() as unknown as {
    device?: { lost?: Promise<{ reason?: string; message?: string }> };
    gpgpu?: { gl?: WebGL2RenderingContext };
  };
  void backend.device?.lost?.then((info) => onLost(`The GPU device was lost (${info.reason ?? 'unknown'}: ${info.message ?? ''}).`));
  const canvas = backend.gpgpu?.gl?.canvas as (HTMLCanvasElement | OffscreenCanvas | undefined);
  canvas?.addEventListener('webglcontextlost', () => onLost('The WebGL context was lost (GPU reset or driver crash).') as unknown as EventListener);
}

/**
 * Seconds per training step of a small conv net (conv 5×5 → pool → dense, batch 16 at 32 px) on the
 * active backend, after one warm-up step: a short measurement to rank backends by, not a benchmark.
 */
export async function measureTrainingStep(steps = 3): Promise<number> {
  const w1 = tf.variable(tf.randomNormal([5, 5, 3, 32], 0, 0.05));
  const w2 = tf.variable(tf.randomNormal([15 * 15 * 32, 10], 0, 0.01));
  const x = tf.randomNormal([16, 32, 32, 3]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'int32'), 10);
  const step = async (): Promise<void> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as unknown as tf.Tensor4D, 1, 'same')), 3, 2, 'valid');
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.reshape(h, [16, -1]), w2)) as tf.Scalar;
      });
      w1.assign(tf.sub(w1, tf.mul(grads[w1.name]!, 0.01)));
      w2.assign(tf.sub(w2, tf.mul(grads[w2.name]!, 0.01)));
      return value;
    });
    await loss.data();
    loss.dispose();
  };
  try {
    await step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      await step();
    }
    return (performance.now() - t0) / 1000 / steps;
  } finally {
    tf.dispose([w1, w2, x, y]);
  }
}
