// Entry of the hidden compute page: waits for the host's MessagePort (posted to this window by the
// Electron compute preload, or by a test harness), then trains over it with webgpu/webgl.
import { portEndpoint, serveComputePage } from '../../src/train/compute/page/page.js';

/** The message a host posts to this window, with the protocol's port attached. */
const PORT_MESSAGE = 'convnet-compute-port';

window.addEventListener('message', (event: MessageEvent) => {
  const port = event.ports[0];
  if (event.source === window && event.data === PORT_MESSAGE && port) {
    serveComputePage(portEndpoint(port));
    document.title = 'ConvNet Studio compute (connected)';
  }
});
document.title = 'ConvNet Studio compute (waiting for the host)';
