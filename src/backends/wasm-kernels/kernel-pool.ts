import type { Worker as NodeWorker } from 'node:worker_threads';

/**
 * One parallel job: calls of one exported function of the SIMD module, one per share of the work.
 * Each thread claims the next unclaimed share until none is left, so a thread that starts late (a
 * helper still waking, or its core taken by another program) takes fewer shares instead of holding
 * the others up. Which thread ran a share never changes what it computes: per-thread scratch is
 * given by `perThread`, and each share writes only its own part of the output.
 */
export interface ThreadJob {
  fn: string;
  /** The arguments of each share's call. */
  shares: number[][];
  /** Added, times the thread's number (0: the caller's), to each argument: per-thread scratch. */
  perThread?: number[];
}

/** Doubles in the job area: [shares, arguments per share, function index, perThread…, then each share's arguments]. */
const JOB_DOUBLES = 4096;
/** Int32 slots of the control block, then one state slot per helper. */
const SEQ = 0; // job sequence number (−1: stop)
const NEXT = 1; // the next unclaimed share
const FAILED = 2; // helpers whose call threw
const STATE = 4;
/** A helper's state: idle, or a job posted for it, taken by it, or withdrawn by the caller before it woke. */
const IDLE = 0;
const POSTED = 1;
const RUNNING = 2;
const WITHDRAWN = 3;
/** How long a helper polls for its next job before it sleeps (ms). */
const HELPER_SPIN_MS = 0.05;
/** How long the caller polls for a running helper to finish its share before it sleeps (ms). */
const CALLER_SPIN_MS = 2;

// The helper: instantiates the SIMD module on the backend's shared memory, then takes part in each
// posted job (no event loop), waiting on the control block between jobs.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, jobs, index, names } = workerData;
const exports_ = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exports_[n]);
const ctl = new Int32Array(control);
const job = new Float64Array(jobs);
const me = ${STATE} + index, thread = index + 1;
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
  // The caller may have finished every share (and withdrawn this helper) before it woke.
  if (Atomics.compareExchange(ctl, me, ${POSTED}, ${RUNNING}) !== ${POSTED}) continue;
  try {
    const shares = job[0], count = job[1], fn = fns[job[2]];
    const args = new Array(count);
    for (let s = Atomics.add(ctl, ${NEXT}, 1); s < shares; s = Atomics.add(ctl, ${NEXT}, 1)) {
      const at = 3 + count * (s + 1);
      for (let j = 0; j < count; j++) args[j] = job[at + j] + thread * job[3 + j];
      fn(...args);
    }
  } catch (err) {
    Atomics.add(ctl, ${FAILED}, 1);
    Atomics.store(ctl, ${NEXT}, 0x3fffffff);
  }
  Atomics.store(ctl, me, ${IDLE});
  Atomics.notify(ctl, me);
}
`;

/**
 * Threads that run the SIMD module's functions on one shared WebAssembly memory (tfjs' multi-threaded
 * build's heap): the caller's thread is thread 0, `threads − 1` helpers (worker_threads) the others.
 * A job blocks its caller until every share is done. Shares are claimed in order from a shared
 * counter, so a result depends only on how the caller split the work, never on timing.
 */
export class KernelPool {
  readonly threads: number;
  private readonly helpers: NodeWorker[] = [];
  private readonly control: Int32Array<SharedArrayBuffer>;
  private readonly job = new Float64Array(new SharedArrayBuffer(8 * JOB_DOUBLES));
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
    this.control = new Int32Array(new SharedArrayBuffer(4 * (STATE + this.threads)));
    const wt = nodeWorkerThreads();
    if (!wt) {
      this.threads = 1;
      return;
    }
    for (let i = 0; i < this.threads - 1; i++) {
      const helper = new wt.Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: this.control.buffer, jobs: this.job.buffer, index: i, names },
      });
      helper.unref();
      this.helpers.push(helper);
    }
  }

  /** Runs every share of `job` on this thread and whichever helpers join, and returns when all are done. Throws if a call failed. */
  run(job: ThreadJob): void {
    const fn = this.local[job.fn];
    const index = this.fnIndex.get(job.fn);
    if (!fn || index === undefined) {
      throw new Error(`the SIMD module has no function '${job.fn}'`);
    }
    const count = job.shares[0]?.length ?? 0;
    const perThread = job.perThread ?? new Array<number>(count).fill(0);
    if (job.shares.some((a) => a.length !== count) || perThread.length !== count) {
      throw new Error(`every share of '${job.fn}' needs the same ${count} arguments`);
    }
    if (3 + count * (job.shares.length + 1) > JOB_DOUBLES) {
      throw new Error(`too many shares of '${job.fn}' for one job`);
    }
    const area = this.job;
    area[0] = job.shares.length;
    area[1] = count;
    area[2] = index;
    area.set(perThread, 3);
    job.shares.forEach((args, s) => area.set(args, 3 + count * (s + 1)));
    const ctl = this.control;
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, FAILED, 0);
    for (let h = 0; h < this.helpers.length; h++) {
      Atomics.store(ctl, STATE + h, POSTED);
    }
    this.seq = (this.seq + 1) & 0x3fffffff;
    Atomics.store(ctl, SEQ, this.seq);
    Atomics.notify(ctl, SEQ);
    let error: unknown = null;
    try {
      for (let s = Atomics.add(ctl, NEXT, 1); s < job.shares.length; s = Atomics.add(ctl, NEXT, 1)) {
        fn(...(job.shares[s] as number[]));
      }
    } catch (err) {
      error = err;
      Atomics.store(ctl, NEXT, 0x3fffffff);
    }
    this.awaitHelpers();
    if (error) {
      throw error;
    }
    if (Atomics.load(ctl, FAILED) > 0) {
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

  /** Withdraws the job from helpers that have not woken yet, and waits for those running a share. */
  private awaitHelpers(): void {
    const ctl = this.control;
    for (let h = 0; h < this.helpers.length; h++) {
      const slot = STATE + h;
      if (Atomics.compareExchange(ctl, slot, POSTED, WITHDRAWN) === POSTED) {
        continue;
      }
      // Its share is about as long as this thread's last one: poll before sleeping.
      const until = performance.now() + CALLER_SPIN_MS;
      let polls = 0;
      while (Atomics.load(ctl, slot) === RUNNING && ((++polls & 255) !== 0 || performance.now() < until)) {
        // poll
      }
      while (Atomics.load(ctl, slot) === RUNNING) {
        Atomics.wait(ctl, slot, RUNNING);
      }
    }
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

/** Runs `job` on the pool, or every share in order on this thread where there is none (or one share). */
export function runOnThreads(local: object, pool: KernelPool | null, job: ThreadJob): void {
  if (pool && job.shares.length > 1) {
    pool.run(job);
    return;
  }
  const fn = (local as Record<string, (...args: number[]) => void>)[job.fn] as (...args: number[]) => void;
  for (const args of job.shares) {
    fn(...args);
  }
}

/** Shares per thread for work split finely (a late or slowed thread then holds the others up by one small share at most). */
export const SHARES_PER_THREAD = 4;

/**
 * Splits `items` (pixels, images, elements) into contiguous shares, up to {@link SHARES_PER_THREAD}
 * per thread and none smaller than `minItems` (a tiny tensor stays one share), and runs `fn` with
 * `args(first, end)` for each; `perThread` as in {@link ThreadJob}.
 */
export function runSplit(local: object, pool: KernelPool | null, items: number, minItems: number, fn: string, args: (first: number, end: number) => number[], perThread?: number[]): void {
  const threads = pool?.threads ?? 1;
  const shares = Math.max(1, Math.min(threads > 1 ? SHARES_PER_THREAD * threads : 1, Math.floor(items / Math.max(1, minItems))));
  runOnThreads(local, pool, { fn, shares: splitRange(items, shares).map(([a, b]) => args(a, b)), perThread });
}
