import { parentPort } from 'node:worker_threads';
import { describeReadError, probeBytesSync, readIntoScratch, readsByHand, type ProbedImage, type ProbeFailure } from './image-probe.js';
import type { ProbeReply, ProbeTask } from './image-probe-pool.js';

// One of the import's probe threads: reads, hashes and checks the headers of the files it is sent, in order.
// Blocking reads are right here: this thread does nothing else (see readIntoScratch).
const port = parentPort!;
async function probe(task: ProbeTask): Promise<ProbedImage | ProbeFailure> {
  let bytes: Buffer;
  try {
    bytes = readIntoScratch(task.path, task.size);
  } catch (err) {
    return describeReadError(err);
  }
  // Formats libvips reads (asynchronously) get their own copy: the reused buffer changes with the next file.
  return probeBytesSync(readsByHand(bytes) ? bytes : Buffer.from(bytes));
}

port.on('message', (tasks: ProbeTask[]) => {
  void (async () => {
    const replies: ProbeReply[] = [];
    for (const task of tasks) {
      try {
        replies.push({ id: task.id, result: await probe(task) });
      } catch (err) {
        replies.push({ id: task.id, result: { ok: false, kind: 'unreadable', reason: `unreadable: ${err instanceof Error ? err.message : String(err)}` } });
      }
    }
    port.postMessage(replies);
  })();
});
port.postMessage('ready');
