// The message loop of a compute page: open a backend, answer a probe or a self-check, then train one
// session. Browser-only (it activates webgpu/webgl); the page's entry hands it a MessagePort.
import { measureTrainingStep } from '../../../backends/probe-step.js';
import { activateComputeBackend, describeAdapter, watchDeviceLoss } from '../../../backends/webgpu.js';
import { checkTrainingOps } from '../../../backends/webgpu-check.js';
import { measureModelTraining } from '../../step-speed.js';
import type { ComputeEndpoint, FromCompute, ToCompute } from '../protocol.js';
import { transferablesOf } from '../protocol.js';
import { runComputeSession } from './runner.js';

/** Wraps a DOM MessagePort as a protocol endpoint. */
export function portEndpoint(port: MessagePort): ComputeEndpoint<ToCompute, FromCompute> {
  const listeners: Array<(m: ToCompute) => void> = [];
  port.onmessage = (e: MessageEvent<ToCompute>) => listeners.forEach((l) => l(e.data));
  return {
    post: (m, transfer = []) => port.postMessage(m, transfer),
    onMessage: (l) => listeners.push(l),
  };
}

/** Serves the protocol on `endpoint` until the session ends; every failure becomes an `error` message. */
export function serveComputePage(endpoint: ComputeEndpoint<ToCompute, FromCompute>): void {
  const send = (m: FromCompute): void => endpoint.post(m, transferablesOf(m));
  let backend: string | null = null;
  let training = false;
  let lost = false;
  const fail = (err: unknown): void => send({ type: 'error', message: err instanceof Error ? err.message : String(err), deviceLost: lost });
  endpoint.onMessage((m) => {
    const task = async (): Promise<void> => {
      switch (m.type) {
        case 'open': {
          const adapter = await activateComputeBackend(m.backend);
          backend = m.backend;
          watchDeviceLoss((message) => {
            lost = true;
            send({ type: 'error', message, deviceLost: true });
          });
          send({ type: 'ready', adapter });
          return;
        }
        case 'adapters':
          // Names what each backend would run on, without switching to it.
          send({
            type: 'adapters',
            adapters: await Promise.all((['webgpu', 'webgl'] as const).map(async (b) => ({ backend: b, ...(await describeAdapter(b)) }))),
          });
          return;
        case 'probe':
          requireOpen(backend);
          send({ type: 'probe', secondsPerStep: await measureTrainingStep(m.steps ?? 3) });
          return;
        case 'self-check':
          send({ type: 'self-check', results: await checkTrainingOps(requireOpen(backend), m.tolerance) });
          return;
        case 'speed':
          requireOpen(backend);
          send({ type: 'speed', speed: await measureModelTraining(m) });
          return;
        case 'init':
          requireOpen(backend);
          if (training) {
            throw new Error('This compute page is already training; a page trains one session.');
          }
          training = true;
          await runComputeSession(endpoint, m.init);
          return;
        default:
          return; // batches, controls and acks are the session's
      }
    };
    task().catch(fail);
  });
}

function requireOpen(backend: string | null): string {
  if (!backend) {
    throw new Error('Open a backend first (the "open" message).');
  }
  return backend;
}
