import { execFile } from 'node:child_process';

/** A Python that imports torch, found as the bench finds it, or why none was. */
export interface TorchPython {
  python: string | null;
  torch: string | null;
  /** Each candidate tried and why it did not do. */
  tried: string[];
}

const run = (file: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<{ code: number; stdout: string; stderr: string; error?: Error }> =>
  new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, timeout: options.timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr, ...(error && typeof error.code !== 'number' ? { error } : {}) });
    });
  });

let cached: Promise<TorchPython> | null = null;

/** The first Python that imports torch: $CONVNET_TORCH_PYTHON, $CONVNET_BENCH_PYTHON, /usr/bin/python3, then python3 on PATH (asynchronously, once per process). */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): Promise<TorchPython> {
  cached ??= (async () => {
    const candidates = [env.CONVNET_TORCH_PYTHON, env.CONVNET_BENCH_PYTHON, '/usr/bin/python3', 'python3', 'python'].filter((c): c is string => !!c);
    const tried: string[] = [];
    for (const python of [...new Set(candidates)]) {
      const probe = await run(python, ['-c', 'import torch; print(torch.__version__)'], { timeoutMs: 60_000 });
      if (probe.code === 0) {
        return { python, torch: probe.stdout.trim(), tried };
      }
      tried.push(`${python}: ${probe.error ? probe.error.message : (probe.stderr.trim().split('\n').at(-1) ?? `exit ${probe.code}`)}`);
    }
    return { python: null, torch: null, tried };
  })();
  return cached;
}

/** Runs `python train.py --check` in a bundle; its exit code and last line. */
export async function runBundleCheck(python: string, dir: string): Promise<{ ok: boolean; line: string }> {
  const r = await run(python, ['train.py', '--check'], { cwd: dir, timeoutMs: 300_000 });
  const lines = `${r.stdout}\n${r.stderr}`.trim().split('\n');
  const line = lines.find((l) => l.startsWith('check:')) ?? lines.at(-1) ?? `exit ${r.code}`;
  return { ok: r.code === 0, line };
}
