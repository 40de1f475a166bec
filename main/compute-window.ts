// The hidden compute window: a second renderer, as locked down as the UI's, that trains runs on
// webgpu/webgl (Metal, D3D12, Vulkan) while the engine feeds it batches over a MessagePort.
import path from 'node:path';
import { app, BrowserWindow, MessageChannelMain, type MessagePortMain } from 'electron';
import { lossSignal, type ComputeChannel, type ComputeHost } from '../src/train/compute/host/host.js';
import type { FromCompute, ToCompute } from '../src/train/compute/protocol.js';
import type { Studio } from '../src/studio.js';
import { appRoot } from '../src/version.js';
import { APP_ORIGIN } from './protocol.js';
import { lockDown } from './window.js';

/** The compute page's preload: hands the port to the page, exposes nothing else. */
const computePreload = path.join(appRoot, 'build', 'preload', 'compute-preload.cjs');

/** Opens one hidden compute window and connects a MessagePort to its page. */
export async function openComputeWindow(): Promise<ComputeChannel> {
  const win = new BrowserWindow({
    show: false,
    width: 320,
    height: 240,
    title: 'ConvNet Studio compute',
    webPreferences: {
      preload: computePreload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      // A hidden window must not be throttled: it is the trainer.
      backgroundThrottling: false,
    },
  });
  lockDown(win.webContents);
  const { lose, onLost } = lossSignal();
  win.webContents.on('render-process-gone', (_e, details) => lose(`The compute window's renderer stopped (${details.reason}).`));
  win.webContents.on('unresponsive', () => lose('The compute window stopped responding.'));
  win.on('closed', () => lose('The compute window was closed.'));
  const onGpuGone = (_e: unknown, details: { reason: string }): void => lose(`The GPU process stopped (${details.reason}); the compute window is restarted for the next run.`);
  app.on('child-process-gone', (e, details) => details.type === 'GPU' && onGpuGone(e, details));

  await win.loadURL(`${APP_ORIGIN}/compute/compute.html`);
  const { port1, port2 } = new MessageChannelMain();
  win.webContents.postMessage('compute:port', null, [port2]);
  port1.start();
  return channelOver(port1, win, lose, onLost);
}

function channelOver(port: MessagePortMain, win: BrowserWindow, lose: (reason: string) => void, onLost: ComputeChannel['onLost']): ComputeChannel {
  return {
    // ArrayBuffers cross the process boundary by structured clone (one copy, never JSON).
    post: (m: ToCompute) => port.postMessage(m),
    onMessage: (listener) =>
      port.on('message', (e) => {
        const m = e.data as FromCompute;
        if (m.type === 'error' && m.deviceLost) {
          lose(m.message);
        }
        listener(m);
      }),
    onLost,
    close: () => {
      port.close();
      if (!win.isDestroyed()) {
        win.destroy();
      }
    },
  };
}

/** Lets the engine train webgpu/webgl runs in compute windows: one fresh window per run session. */
export function setupComputeWindow(studio: Studio): void {
  const host: ComputeHost = { open: openComputeWindow };
  studio.training.setComputeHost(host);
}
