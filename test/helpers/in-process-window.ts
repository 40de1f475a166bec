// A compute window inside the test process: the host's end of the compute protocol (a ComputeLink)
// joined to the real page trainer (compute/page/runner.ts' runComputeSession) by structured-clone message
// passing with transfers, as a MessagePort does. Only opening a backend differs from the built page
// (compute/page/page.ts): there is no WebGPU in Node, so the page trains on tfjs' cpu backend and names it.
import { activateBackend } from '../../src/backends/index.js';
import type { ComputeEndpoint, FromCompute, ToCompute } from '../../src/train/compute/protocol.js';
import { transferablesOf } from '../../src/train/compute/protocol.js';
import { runComputeSession } from '../../src/train/compute/page/runner.js';
import type { ComputeLink } from '../../src/train/window-trainer.js';

export interface InProcessWindow {
  link: ComputeLink;
  /** Makes the window go away (its renderer or GPU process died): the link's `lost` resolves with `reason`. */
  lose(reason: string): void;
}

/** Opens a window whose page serves one training session over the protocol. */
export function inProcessWindow(): InProcessWindow {
  const toHost: Array<(m: FromCompute) => void> = [];
  const toPage: Array<(m: ToCompute) => void> = [];
  let gone = false;
  let markLost: (reason: string) => void = () => undefined;
  // Delivered on a later turn, cloned with the buffers transferred (the sender's copies are detached).
  const deliver = <M>(listeners: Array<(m: M) => void>, m: M, transfer: ArrayBuffer[]): void => {
    const copy = structuredClone(m, { transfer });
    setImmediate(() => !gone && listeners.forEach((l) => l(copy)));
  };
  const page: ComputeEndpoint<ToCompute, FromCompute> = {
    post: (m, transfer = []) => deliver(toHost, m, transfer),
    onMessage: (l) => void toPage.push(l),
  };
  const fail = (err: unknown): void => page.post({ type: 'error', message: err instanceof Error ? err.message : String(err), deviceLost: false });
  page.onMessage((m) => {
    if (m.type === 'open') {
      activateBackend('cpu').then(
        () => page.post({ type: 'ready', adapter: { backend: m.backend, vendor: 'tfjs', architecture: 'cpu', device: '', description: 'tfjs cpu in the test process', software: true } }),
        fail,
      );
    } else if (m.type === 'init') {
      runComputeSession(page, m.init).catch(fail);
    }
  });
  return {
    link: {
      post: (m, transfer) => deliver(toPage, m, transfer.length ? transfer : transferablesOf(m)),
      onMessage: (l) => void toHost.push(l),
      lost: new Promise((resolve) => (markLost = resolve)),
    },
    lose: (reason) => {
      gone = true;
      markLost(reason);
    },
  };
}
