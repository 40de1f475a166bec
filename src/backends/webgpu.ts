// Browser-only: activates tfjs' webgpu or webgl backend in a compute page, names the adapter it runs
// on, and watches for a lost device.
// Never imported by Node code: @tensorflow/tfjs-backend-webgpu is loaded here only.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { AdapterDescription, ComputeBackend } from './compute-adapter.js';
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
