import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { assembleBatch, assembleRawBatch, batchRng, epochOrder } from './batch-assembly.js';
import type { FromWorker, ToWorker, WorkerInit } from './loader-messages.js';
import { openPack, type Pack } from './open-pack.js';

// Worker thread of createBatchLoader: reads records, augments, and posts batches while it holds credits.
const init = workerData as WorkerInit;
const port = parentPort!;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function start(): void {
  let pack: Pack;
  try {
    pack = openPack(init.packFile, { preload: init.preload });
  } catch (err) {
    post({ type: 'error', message: `cannot open pack ${init.packFile}: ${String(err instanceof Error ? err.message : err)}` });
    return;
  }
  const setup = prepare(pack);
  if (typeof setup === 'string') {
    pack.close();
    post({ type: 'error', message: setup });
    return;
  }
  const { records, labels } = setup;
  let seq = 0;
  let epoch = init.epoch;
  let cursor = init.startBatch;
  let order = epochOrder(records.length, init.seed, epoch, init.config.train);
  let credits = init.prefetch;
  let scheduled = false;
  let closed = false;

  const produce = (): void => {
    scheduled = false;
    if (closed || credits <= 0) {
      return;
    }
    if (cursor >= init.batchesPerEpoch) {
      // Run on into the next epoch so its first batches are ready when the trainer gets there.
      epoch++;
      cursor = 0;
      order = epochOrder(records.length, init.seed, epoch, init.config.train);
    }
    const started = performance.now();
    const from = cursor * init.batchSize;
    const positions = order.subarray(from, Math.min(from + init.batchSize, order.length));
    const batchRecords = Int32Array.from(positions, (p) => records[p]!);
    const batchLabels = Int32Array.from(positions, (p) => labels[p]!);
    const batchIds = Int32Array.from(positions, (p) => init.ids[p]!);
    let built: { x: Float32Array | Uint8Array; shifts: Float32Array | null; shape: [number, number, number, number]; views: number };
    try {
      const rng = batchRng(init.seed, epoch, cursor);
      built = init.config.output === 'uint8' ? assembleRawBatch(pack, batchRecords, init.config, rng) : { ...assembleBatch(pack, batchRecords, init.config, rng), shifts: null };
    } catch (err) {
      post({ type: 'error', message: `batch ${cursor} of epoch ${epoch}: ${String(err instanceof Error ? err.message : err)}` });
      closed = true;
      return;
    }
    const busyMs = performance.now() - started;
    post(
      { type: 'batch', seq, epoch, index: cursor, ...built, labels: batchLabels, ids: batchIds, busyMs },
      [built.x.buffer as ArrayBuffer, batchLabels.buffer, batchIds.buffer, ...(built.shifts ? [built.shifts.buffer as ArrayBuffer] : [])],
    );
    credits--;
    cursor++;
    pump();
  };

  // One batch per macrotask so credit, seek and close messages are handled in between.
  const pump = (): void => {
    if (!scheduled && !closed && credits > 0) {
      scheduled = true;
      setImmediate(produce);
    }
  };

  port.on('message', (message: ToWorker) => {
    if (message.type === 'credit') {
      credits += message.n;
    } else if (message.type === 'seek') {
      seq = message.seq;
      epoch = message.epoch;
      cursor = message.startBatch;
      order = epochOrder(records.length, init.seed, epoch, init.config.train);
    } else {
      closed = true;
      pack.close();
      port.close();
      return;
    }
    pump();
  });
  post({ type: 'ready', packSize: pack.packSize });
  pump();
}

/** Maps ids to records and checks sizes; returns an error message when the request cannot be served. */
function prepare(pack: Pack): { records: Int32Array; labels: Int32Array } | string {
  if (init.config.inputSize > pack.packSize) {
    return `input size ${init.config.inputSize} is larger than the pack's ${pack.packSize}`;
  }
  const records = Int32Array.from(init.ids, (id) => pack.indexOf(id));
  const missing = init.ids.filter((_, i) => records[i]! < 0);
  if (missing.length > 0) {
    return `${missing.length} image(s) are not in the pack (failed to decode or not packed), e.g. id ${missing[0]}`;
  }
  const labels = init.labels ?? Int32Array.from(records, (r) => pack.labels[r]!);
  return { records, labels };
}

start();
