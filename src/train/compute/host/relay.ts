// The main thread's part in a compute window's run: it opens the window and relays protocol messages
// between the window and the run's worker (which holds the session and its data), and reports a loss.
import type { Worker } from 'node:worker_threads';
import type { StudioContext } from '../../../library/studio-context.js';
import type { ComputeChannel, ComputeHost } from './host.js';
import { transferablesOf } from '../protocol.js';
import type { FromComputeWorker, ToComputeWorker } from '../worker/worker.js';

/**
 * Opens a compute window for run `runId` and relays protocol messages between it and the run's worker;
 * `onLost` hears of a loss while the run is not over (`isOver`). Resolves with the channel, or null if the window could not open.
 */
export function relayComputeWindow(ctx: Pick<StudioContext, 'events'>, host: ComputeHost, runId: number, worker: Worker, isOver: () => boolean, onLost: (reason: string) => void): Promise<ComputeChannel | null> {
  const toWorker = (m: ToComputeWorker, transfer: ArrayBuffer[] = []): void => worker.postMessage(m, transfer);
  const pending: Array<{ message: Extract<FromComputeWorker, { type: 'compute' }>['message'] }> = [];
  let live: ComputeChannel | null = null;
  worker.on('message', (m: FromComputeWorker) => {
    if (m.type === 'compute') {
      if (live) {
        live.post(m.message, transferables(m.message));
      } else {
        pending.push({ message: m.message });
      }
    }
  });
  return host.open().then(
    (channel) => {
      live = channel;
      channel.onMessage((m) => toWorker({ type: 'compute', message: m }, transferables(m)));
      channel.onLost((reason) => {
        if (isOver()) {
          return; // the run ended and its window was closed: not a loss
        }
        ctx.events.emit('app.log', { level: 'error', message: `Run ${runId}: ${reason}`, time: Date.now() });
        onLost(reason);
        toWorker({ type: 'compute-lost', reason });
      });
      pending.splice(0).forEach((p) => channel.post(p.message, transferables(p.message)));
      return channel;
    },
    (err: Error) => {
      onLost(`The compute window could not be opened: ${err.message}`);
      toWorker({ type: 'compute-lost', reason: `The compute window could not be opened: ${err.message}` });
      return null;
    },
  );
}

function transferables(m: { type: string }): ArrayBuffer[] {
  return transferablesOf(m as Parameters<typeof transferablesOf>[0]);
}
