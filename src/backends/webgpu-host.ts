// Node side of the webgpu path: what each host offers, in words the UI shows (app.info.compute).
import type { AppInfo } from '../api/app.js';

/** Where webgpu/webgl training happens on a host: the desktop app's compute window, or nowhere (Node trains). */
export function computeModeFor(host: AppInfo['host']): AppInfo['compute'] {
  if (host === 'electron') {
    return {
      mode: 'compute-window',
      backends: ['webgpu', 'webgl'],
      note: 'GPU training (webgpu, webgl as fallback) runs in a hidden compute window of this app: Metal on macOS, D3D12 on Windows, Vulkan on Linux.',
    };
  }
  return {
    mode: 'node-only',
    backends: [],
    note:
      host === 'server'
        ? 'Browser mode: the server keeps training in Node (tensorflow, wasm or cpu) on its own machine; webgpu training is in the desktop app only.'
        : 'The CLI trains in Node (tensorflow, wasm or cpu); webgpu training is in the desktop app only.',
  };
}

/** One line naming a compute page's adapter, for the run's `device` column and the UI (Node-safe twin of webgpu.ts' adapterLabel). */
export function adapterLabelOf(a: { backend: 'webgpu' | 'webgl'; vendor: string; architecture: string; description: string; software: boolean }): string {
  const name = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter';
  return `${a.backend === 'webgpu' ? 'WebGPU' : 'WebGL'}: ${name}${a.software ? ' (software rendering, not a GPU)' : ''}`;
}
