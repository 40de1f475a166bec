import type { Worker as NodeWorker } from 'node:worker_threads';

/** One call of an exported function of the SIMD module: its name and its (numeric) arguments. */
export interface KernelCall {
  fn: string;
  args: number[];
}

/** Doubles per helper's job area: [calls, then per call: function index, argument count, arguments…]. */
const JOB_DOUBLES = 4096;
/** Int32 slots of the control block: [0] job sequence number, [1] helpers still working, [2] helpers that failed. */
const SEQ = 0;
const PENDING = 1;
const FAILED = 2;
/** How long a helper polls for its next job before it sleeps (ms). */
const HELPER_SPIN_MS = 0.05;
/** How long the caller polls for the helpers to finish before it sleeps (ms). */
const CALLER_SPIN_MS = 2;

// The helper: instantiates the SIMD module on the backend's shared memory, then runs the calls it is
// handed, one job per sequence number, waiting on the control block between jobs (no event loop).
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, jobs, index, names } = workerData;
const exports_ = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exports_[n]);
const ctl = new Int32Array(control);
const job = new Float64Array(jobs, index * ${JOB_DOUBLES} * 8, ${JOB_DOUBLES});
let seen = 0;
for (;;) {
  // Kernels come back to back while a network computes: spin a little before sleeping, since a
  // sleeping thread takes tens of microseconds to wake.
  if (Atomics.load(ctl, ${SEQ}) === seen) {
    const until = performance.now() + ${HELPER_SPIN_MS};
    let n = 0;
    while (Atomics.load(ctl, ${SEQ}) === seen && ((++n & 255) !== 0 || performance.now() < until));
  }
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  if (seen < 0) break;
  try {
    const calls = job[0];
    let at = 1;
    for (let c = 0; c < calls; c++) {
      const fn = fns[job[at]], n = job[at + 1];
      const args = Array.from(job.subarray(at + 2, at + 2 + n));
      at += 2 + n;
      fn(...args);
    }
  } catch (err) {
    Atomics.add(ctl, ${FAILED}, 1);
  }
  if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
}
`;

/**
 * Threads that run the SIMD module's functions on one shared WebAssembly memory (tfjs' multi-threaded
 * build's heap): the caller's thread is thread 0, `threads − 1` helpers (worker_threads) the others.
 * A parallel call blocks its caller until every thread has finished its share; work is split
 * statically, so a result depends only on how the caller split it, never on timing.
 */
export class KernelPool {
  readonly threads: number;
  private readonly helpers: NodeWorker[] = [];
  private readonly control = new Int32Array(new SharedArrayBuffer(16));
  private readonly jobs: Float64Array;
  private readonly fnIndex: Map<string, number>;
  private seq = 0;

  constructor(
    threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    private readonly local: Record<string, (...args: number[]) => void>,
  ) {
    const names = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
    this.fnIndex = new Map(names.map((n, i) => [n, i]));
    this.threads = Math.max(1, threads);
    this.jobs = new Float64Array(new SharedArrayBuffer(8 * JOB_DOUBLES * Math.max(1, this.threads - 1)));
    const wt = nodeWorkerThreads();
    if (!wt) {
      this.threads = 1;
      return;
    }
    for (let i = 0; i < this.threads - 1; i++) {
      const helper = new wt.Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: this.control.buffer, jobs: this.jobs.buffer, index: i, names },
      });
      helper.unref();
      this.helpers.push(helper);
    }
  }

  /**
   * Runs `perThread[t]` (calls in order) on thread t, `perThread[0]` on the caller's, and returns when
   * all are done. Throws if a helper's call failed.
   */
  run(perThread: KernelCall[][]): void {
    if (perThread.length > this.threads) {
      throw new Error(`${perThread.length} shares of work for ${this.threads} threads`);
    }
    const busy = perThread.length - 1;
    for (let t = 1; t < perThread.length; t++) {
      this.write(t - 1, perThread[t] as KernelCall[]);
    }
    for (let t = perThread.length; t < this.threads; t++) {
      this.jobs[(t - 1) * JOB_DOUBLES] = 0;
    }
    Atomics.store(this.control, PENDING, this.threads - 1);
    Atomics.store(this.control, FAILED, 0);
    if (this.threads > 1) {
      this.seq = (this.seq + 1) & 0x3fffffff;
      Atomics.store(this.control, SEQ, this.seq);
      Atomics.notify(this.control, SEQ);
    }
    let error: unknown = null;
    try {
      for (const call of perThread[0] ?? []) {
        (this.local[call.fn] as (...args: number[]) => void)(...call.args);
      }
    } catch (err) {
      error = err;
    }
    // The helpers' shares are about as long as this thread's: poll for them before sleeping.
    const until = performance.now() + CALLER_SPIN_MS;
    let polls = 0;
    while (Atomics.load(this.control, PENDING) > 0 && ((++polls & 255) !== 0 || performance.now() < until)) {
      // poll
    }
    for (let pending = Atomics.load(this.control, PENDING); pending > 0; pending = Atomics.load(this.control, PENDING)) {
      Atomics.wait(this.control, PENDING, pending);
    }
    if (error) {
      throw error;
    }
    if (busy > 0 && Atomics.load(this.control, FAILED) > 0) {
      throw new Error('a kernel thread failed');
    }
  }

  /** Stops the helpers. */
  close(): void {
    Atomics.store(this.control, SEQ, -1);
    Atomics.notify(this.control, SEQ);
    for (const h of this.helpers) {
      void h.terminate();
    }
    this.helpers.length = 0;
  }

  private write(helper: number, calls: KernelCall[]): void {
    const job = this.jobs.subarray(helper * JOB_DOUBLES, (helper + 1) * JOB_DOUBLES);
    let at = 1;
    for (const call of calls) {
      const fn = this.fnIndex.get(call.fn);
      if (fn === undefined) {
        throw new Error(`the SIMD module has no function '${call.fn}'`);
      }
      if (at + 2 + call.args.length > JOB_DOUBLES) {
        throw new Error('too many kernel calls for one thread');
      }
      job[at] = fn;
      job[at + 1] = call.args.length;
      job.set(call.args, at + 2);
      at += 2 + call.args.length;
    }
    job[0] = calls.length;
  }
}

/** node:worker_threads where this runtime has it (Node, Electron's Node side), else null (a browser). */
function nodeWorkerThreads(): typeof import('node:worker_threads') | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (proc?.getBuiltinModule?.('node:worker_threads') as typeof import('node:worker_threads') | undefined) ?? null;
}

/** Splits [0, n) into `parts` contiguous ranges as even as they can be (the first ones one longer). */
export function splitRange(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const base = Math.floor(n / parts);
  const extra = n % parts;
  let at = 0;
  for (let p = 0; p < parts; p++) {
    const len = base + (p < extra ? 1 : 0);
    out.push([at, at + len]);
    at += len;
  }
  return out;
}

/** Runs each thread's calls: on the pool, or in order on this thread where there is none (or one share). */
export function runOnThreads(local: object, pool: KernelPool | null, calls: KernelCall[][]): void {
  if (pool && calls.length > 1) {
    pool.run(calls);
    return;
  }
  const fns = local as Record<string, (...args: number[]) => void>;
  for (const call of calls.flat()) {
    (fns[call.fn] as (...args: number[]) => void)(...call.args);
  }
}

/**
 * Splits `items` (pixels, images, elements) into one contiguous share per thread, no share smaller
 * than `minItems` (a tiny tensor stays on one thread), and runs `call(first, end, thread)` for each.
 */
export function runSplit(local: object, pool: KernelPool | null, items: number, minItems: number, call: (first: number, end: number, thread: number) => KernelCall): void {
  const shares = Math.max(1, Math.min(pool?.threads ?? 1, Math.floor(items / Math.max(1, minItems))));
  runOnThreads(
    local,
    pool,
    splitRange(items, shares).map(([a, b], t) => [call(a, b, t)]),
  );
}
