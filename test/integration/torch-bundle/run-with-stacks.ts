// Runs a command that starts Python processes; past a deadline, asks every Python process under it for its
// stacks (faulthandler on SIGABRT, via PYTHONFAULTHANDLER) before ending it, so a hang reports where it hung.
import { execFileSync, spawn } from 'node:child_process';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
}

/** Every descendant PID of `pid` (ps -o pid,ppid), deepest last. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of rows) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

export function runWithStacks(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RunResult> {
  const started = Date.now();
  const child = spawn(command, args, { cwd: options.cwd, env: { ...options.env, PYTHONFAULTHANDLER: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // The workers first (their stacks are what matter), then whatever is left.
    for (const pid of descendants(child.pid!).reverse()) {
      try {
        process.kill(pid, 'SIGABRT');
      } catch {
        // already gone
      }
    }
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }, options.timeoutMs);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ status: null, stdout, stderr: `${stderr}${error.message}\n`, seconds: Math.round((Date.now() - started) / 1000), timedOut: false });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, seconds: Math.round((Date.now() - started) / 1000), timedOut });
    });
  });
}
