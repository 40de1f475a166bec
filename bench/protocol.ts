// The JSON-lines protocol both sides of a comparison speak (ours: bench/ours-worker.ts, the peer:
// bench/torch_peer.py), and a client that drives one such process. Each side lives in its own process,
// so that its peak RSS is its own and the two can be timed alternately, one idle while the other runs.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';
import type { LayerSpec } from '../src/model/index.js';

/** What one side is asked to set up: a network, a synthetic batch and what to time on it. */
export interface StepTask {
  kind: 'train' | 'infer';
  /** The topology as data; the peer builds its network from it. */
  specs: LayerSpec[];
  arch: string;
  inputSize: number;
  batch: number;
  numClasses: number;
  /** Compute threads (torch.set_num_threads; informational for tfjs, whose thread count is fixed by the backend). */
  threads: number;
  /** ConvNet Studio's wasm threads (default: `threads`); ignored by the peer. */
  oursThreads?: number;
  /** Untimed steps at setup (operator creation, optimizer slots, allocator warm-up). */
  warmup: number;
  /** The peer's torch device (default cpu; cuda for the GPU variant); ignored by ours. */
  device?: 'cpu' | 'cuda';
  /** ConvNet Studio's backend; ignored by the peer. */
  backend?: string;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
}

/** A request on the wire. */
export type Request = { op: 'setup'; task: StepTask } | { op: 'time'; steps: number } | { op: 'rss' } | { op: 'quit' };

/** A reply on the wire. */
export type Reply = { ok: true; [key: string]: unknown } | { ok: false; error: string };

/** A child process answering the protocol, one request at a time. */
export class LineProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Array<(line: string | null) => void> = [];
  private stderr = '';
  private exited = false;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.pending.shift()?.(line));
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('exit', () => {
      this.exited = true;
      for (const resolve of this.pending.splice(0)) {
        resolve(null);
      }
    });
    this.child.on('error', (err) => {
      this.stderr += String(err);
    });
  }

  /** Sends one request and resolves with its reply; rejects when the process fails or answers an error. */
  async request(message: Request): Promise<Record<string, unknown>> {
    if (this.exited) {
      throw new Error(`process exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const line = await new Promise<string | null>((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(JSON.stringify(message) + '\n');
    });
    if (line === null) {
      throw new Error(`process exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const reply = JSON.parse(line) as Reply;
    if (!reply.ok) {
      throw new Error(reply.error);
    }
    return reply;
  }

  /** Asks the process to quit and waits for it (kills it after 5 s). */
  async close(): Promise<void> {
    if (this.exited) {
      return;
    }
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.write(JSON.stringify({ op: 'quit' } satisfies Request) + '\n');
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/** The first Python that imports torch: $CONVNET_BENCH_PYTHON, /usr/bin/python3, then python3 on PATH; with why not, when none does. */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): { python: string | null; torch: string | null; tried: string[] } {
  const candidates = [env.CONVNET_BENCH_PYTHON, '/usr/bin/python3', 'python3', 'python'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) {
      return { python, torch: probe.stdout.trim(), tried };
    }
    tried.push(`${python}: ${probe.error ? probe.error.message : (probe.stderr.trim().split('\n').at(-1) ?? `exit ${probe.status}`)}`);
  }
  return { python: null, torch: null, tried };
}
