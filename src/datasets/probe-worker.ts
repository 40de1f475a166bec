import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { describeReadError, probeBytesSync, readsByHand, type ProbedImage, type ProbeFailure } from './probe.js';
import type { ProbeReply, ProbeTask } from './probe-pool.js';

// One of the import's probe threads: reads, hashes and checks the headers of the files it is sent, in order.
// Blocking reads are right here: this thread does nothing else. Each file is read into one reused buffer
// (the size is known from the scan), so reading costs open + read + close and makes no garbage.
const port = parentPort!;
let buffer = Buffer.allocUnsafeSlow(1 << 20);

/** The whole file in the reused buffer (a view valid until the next call). */
function readWhole(path: string, expected: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    // One byte more than expected tells a file that grew since the scan; then its real size is read.
    let size = expected + 1;
    for (;;) {
      if (buffer.length < size) {buffer = Buffer.allocUnsafeSlow(Math.max(size, buffer.length * 2));}
      let got = 0;
      while (got < size) {
        const n = readSync(fd, buffer, got, size - got, got);
        if (n === 0) {break;}
        got += n;
      }
      if (got < size) {return buffer.subarray(0, got);}
      size = fstatSync(fd).size + 1;
    }
  } finally {
    closeSync(fd);
  }
}

async function probe(task: ProbeTask): Promise<ProbedImage | ProbeFailure> {
  let bytes: Buffer;
  try {
    bytes = readWhole(task.path, task.size);
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
