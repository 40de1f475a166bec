// Preload of the hidden compute window (sandboxed): passes the engine's MessagePort to the page and
// exposes nothing else — no API, no ipcRenderer. Bundled to CommonJS by main/vite.preload.config.ts.
import { ipcRenderer } from 'electron';

ipcRenderer.once('compute:port', (event) => {
  window.postMessage('convnet-compute-port', '*', event.ports);
});
