import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import { describeReadError, MAX_FILE_BYTES, probeBytesSync, probeImage, readIntoScratch, readsByHand, type ProbedImage, type ProbeFailure } from './image-probe.js';

/** One file for a probe thread (size already checked by the caller). */
export interface ProbeTask {
  id: number;
  path: string;
  size: number;
}

/** A probe thread's answer for one file. */
export interface ProbeReply {
  id: number;
  result: ProbedImage | ProbeFailure;
}

/** Files sent to a thread at once: one message per batch keeps message overhead under the hash's cost. */
const BATCH = 32;
/** Batches a thread holds at once, so it never waits for the next one. */
const QUEUED_BATCHES = 2;
/** Files the calling thread probes at a time when every thread is busy (a few ms, less than a queued batch). */
const LOCAL_BATCH = 8;

interface Lane {
  worker: Worker;
  batches: number;
  /** Set when the thread has loaded its code: work sent before would wait behind its start-up and hold up every later commit. */
  ready: boolean;
}

/**
 * Reads, hashes and header-checks files on a few threads (one per core beside the import's own thread, 1 to 4):
 * SHA-256 of every byte is the import's main cost, and the import thread has the SQLite writes to do. Results
 * come back by promise, in any order; a thread that fails makes the pool probe on the calling thread from then on.
 * (On a loaded 2-core machine, 1, 2 and 4 threads measured within noise of each other; 1 was best.)
 */
export class ProbePool {
  private readonly lanes: Lane[] = [];
  private readonly waiting = new Map<number, { path: string; size: number; resolve: (r: ProbedImage | ProbeFailure) => void }>();
  private queue: ProbeTask[] = [];
  private nextId = 0;
  private scheduled = false;
  private localScheduled = false;
  private broken = false;

  constructor(threads = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    // No threads: every file is probed on the calling thread.
    this.broken = threads === 0;
    for (let i = 0; i < threads; i++) {
      const worker = spawnWorker(siblingModule(import.meta.url, 'image-probe-worker'));
      const lane: Lane = { worker, batches: 0, ready: false };
      worker.on('message', (replies: ProbeReply[] | 'ready') => {
        if (replies === 'ready') {
          lane.ready = true;
          this.dispatch();
          return;
        }
        lane.batches--;
        for (const reply of replies) {
          const entry = this.waiting.get(reply.id);
          this.waiting.delete(reply.id);
          entry?.resolve(reply.result);
        }
        this.dispatch();
      });
      worker.on('error', () => this.fail(lane));
      worker.on('exit', () => this.fail(lane));
      this.lanes.push(lane);
    }
  }

  /** Probes one file (size: from the scan, checked first so empty and huge files are never read). */
  probe(path: string, size: number): Promise<ProbedImage | ProbeFailure> {
    if (this.broken || size === 0 || size > MAX_FILE_BYTES) {
      // Empty and over-large files are refused here, unread.
      return probeImage(path, size);
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { path, size, resolve });
      this.queue.push({ id, path, size });
      if (!this.scheduled) {
        this.scheduled = true;
        // Collect the tasks queued in this turn into full batches.
        setImmediate(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const lane = this.lanes.reduce<Lane | null>((best, l) => (l.ready && l.batches < QUEUED_BATCHES && (!best || l.batches < best.batches) ? l : best), null);
      if (!lane) {break;}
      const batch = this.queue.slice(0, BATCH);
      this.queue = this.queue.slice(BATCH);
      lane.batches++;
      lane.worker.postMessage(batch);
    }
    if (this.queue.length > 0 && !this.localScheduled) {
      // Every thread has work queued (or is still starting): this thread probes a few files itself rather than wait (it has only the
      // SQLite writes to do), then lets replies in before taking more.
      this.localScheduled = true;
      setImmediate(() => {
        this.localScheduled = false;
        this.probeHere();
        this.dispatch();
      });
    }
  }

  /** Probes a few queued files on this thread, blocking briefly (reads are synchronous here too). */
  private probeHere(): void {
    const batch = this.queue.slice(0, LOCAL_BATCH);
    this.queue = this.queue.slice(LOCAL_BATCH);
    for (const task of batch) {
      const entry = this.waiting.get(task.id);
      this.waiting.delete(task.id);
      if (!entry) {continue;}
      let bytes: Buffer;
      try {
        bytes = readIntoScratch(task.path, task.size);
      } catch (err) {
        entry.resolve(describeReadError(err));
        continue;
      }
      const result = probeBytesSync(readsByHand(bytes) ? bytes : Buffer.from(bytes));
      if (result instanceof Promise) {
        void result.then(entry.resolve);
      } else {
        entry.resolve(result);
      }
    }
  }

  /** A thread died: from now on every file, those it held included, is probed on this thread. */
  private fail(lane: Lane): void {
    if (!this.lanes.includes(lane)) {return;}
    this.broken = true;
    for (const other of this.lanes.splice(0)) {void other.worker.terminate();}
    const orphans = [...this.waiting.values()];
    this.waiting.clear();
    this.queue = [];
    for (const entry of orphans) {void probeImage(entry.path, entry.size).then(entry.resolve);}
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    const lanes = this.lanes.splice(0);
    this.broken = true;
    await Promise.all(lanes.map((l) => l.worker.terminate()));
  }
}
