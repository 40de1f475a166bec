// Runs sandboxed in the UI window: exposes one named function per contract method and an event
// subscription, never ipcRenderer itself. Bundled to CommonJS by main/vite.preload.config.ts.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { methodNames } from '../src/api/contract.js';

const api: Record<string, (input: unknown) => Promise<unknown>> = {};
for (const name of methodNames) {
  api[name] = (input: unknown) => ipcRenderer.invoke(`api:${name}`, input);
}

contextBridge.exposeInMainWorld('convnet', {
  api,
  onEvent(listener: (event: string, payload: unknown) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, event: string, payload: unknown): void => listener(event, payload);
    ipcRenderer.on('api:event', wrapped);
    return () => ipcRenderer.off('api:event', wrapped);
  },
  /** Absolute paths of dropped files or folders (File.path is gone under contextIsolation). */
  pathsForFiles(files: File[]): string[] {
    return files.map((file) => webUtils.getPathForFile(file)).filter((p) => p !== '');
  },
  /** Opens the system picker for folders or files; resolves to the chosen paths. */
  pickPaths(kind: 'folders' | 'files'): Promise<string[]> {
    return ipcRenderer.invoke('host:pick-paths', kind);
  },
});
