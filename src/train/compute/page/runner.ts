// The compute page's trainer: the same trainLoop, PaperSgd and evaluation as the Node worker, fed by
// PortBatchSources and reporting progress, epochs and checkpoints as protocol messages. No Node APIs.
import * as tf from '@tensorflow/tfjs';
import { ARCHS, buildModel, type ArchName } from '../../../model/index.js';
import { artifactsOf, captureCheckpoint, sgdStateOf } from '../artifacts.js';
import type { ComputeEndpoint, ComputeInit, FromCompute, ToCompute } from '../protocol.js';
import { transferablesOf } from '../protocol.js';
import { PortBatchSource } from './port-source.js';
import { initialPosition, keyedWeights, trainLoop, type LoopPosition } from '../../loop.js';
import { PaperSgd } from '../../sgd.js';

/** Trains one session on the active tfjs backend, driven by the host over `endpoint`; resolves when the loop ends or fails. */
export async function runComputeSession(endpoint: ComputeEndpoint<ToCompute, FromCompute>, init: ComputeInit): Promise<void> {
  const send = (m: FromCompute): void => endpoint.post(m, transferablesOf(m));
  const prefetch = init.prefetch ?? 3;
  const train = new PortBatchSource('train', init.trainBatches, send, init.normalization, prefetch);
  const val = init.valBatches > 0 ? new PortBatchSource('val', init.valBatches, send, init.normalization, prefetch) : null;
  const control = { paused: false, stop: false, wake: null as (() => void) | null };
  let ack: ((m: { ok: boolean; error: string | null }) => void) | null = null;

  endpoint.onMessage((m) => {
    switch (m.type) {
      case 'batch':
        (m.stream === 'train' ? train : val)?.deliver(m);
        break;
      case 'end-of-epoch':
        (m.stream === 'train' ? train : val)?.endOfEpoch(m.ticket);
        break;
      case 'control':
        control.paused = m.action === 'pause';
        control.stop ||= m.action === 'stop';
        if (m.action !== 'pause') {
          control.wake?.();
          control.wake = null;
        }
        break;
      case 'checkpoint-saved':
        ack?.(m);
        ack = null;
        break;
      default:
        break;
    }
  });

  const { config } = init;
  const arch = config.arch as ArchName;
  const model = init.checkpoint
    ? await tf.loadLayersModel(tf.io.fromMemory(artifactsOf(init.checkpoint)))
    : buildModel(arch, { numClasses: init.numClasses, inputSize: init.inputSize, lrn: config.lrn ?? ARCHS[arch].defaultLrn, dropout: config.dropout, init: config.init ?? ARCHS[arch].defaultInit, seed: config.seed });
  const sgd = new PaperSgd(keyedWeights(model), { momentum: config.momentum, weightDecay: config.weightDecay });
  if (init.checkpoint) {
    sgd.setState(sgdStateOf(init.checkpoint));
  }
  const start: LoopPosition = init.checkpoint?.position ?? initialPosition(config);

  // The host persists each checkpoint before the page goes on, so a lost device loses at most one epoch.
  const checkpoint = async (reason: 'epoch' | 'stopped', position: LoopPosition, metrics: FromCompute & { type: 'checkpoint' } extends { metrics: infer M } ? M : never): Promise<void> => {
    const cp = await captureCheckpoint(model, await sgd.getState(), position);
    const saved = new Promise<{ ok: boolean; error: string | null }>((resolve) => (ack = resolve));
    send({ type: 'checkpoint', reason, metrics, ...cp });
    const reply = await saved;
    if (!reply.ok) {
      throw new Error(`The host could not save the checkpoint: ${reply.error ?? 'unknown error'}`);
    }
  };

  try {
    const { outcome, position } = await trainLoop({
      model,
      sgd,
      config,
      numClasses: init.numClasses,
      train,
      val,
      start,
      hooks: {
        progress: (p) => send({ type: 'progress', progress: p }),
        epochEnd: (metrics, pos) => checkpoint('epoch', pos, metrics),
        control: async () => {
          if (control.paused && !control.stop) {
            send({ type: 'status', status: 'paused' });
            await new Promise<void>((resolve) => (control.wake = resolve));
            if (!control.stop) {
              send({ type: 'status', status: 'running' });
            }
          }
          return control.stop ? 'stop' : 'continue';
        },
        stopped: (pos) => checkpoint('stopped', pos, null),
      },
    });
    send({ type: 'finished', outcome, position });
  } finally {
    model.dispose();
    sgd.dispose();
    await train.close();
    await val?.close();
  }
}
