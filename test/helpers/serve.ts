import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from './temp.js';

/** A `convnet serve` process started for a test. */
export interface ServeProcess {
  url: string;
  origin: string;
  token: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the real CLI (`bin/convnet.js serve --json`) on a temporary library and waits for its URL. */
export async function startServe(libraryDir: string, extraArgs: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'serve', '--library', libraryDir, '--port', '0', '--json', ...extraArgs], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CONVNET_LIBRARY: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`convnet serve exited with ${code}: ${stderr}`)));
  });
  const info = JSON.parse(first) as { url: string; port: number };
  const url = new URL(info.url);
  return {
    url: info.url,
    origin: url.origin,
    token: url.searchParams.get('token')!,
    port: info.port,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Calls one API method of a serve process over HTTP with its token; throws with the server's message. */
export async function callServe<T>(serve: Pick<ServeProcess, 'origin' | 'token'>, method: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`${serve.origin}/api/${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!body.ok) {
    throw new Error(`${method}: ${body.error?.message}`);
  }
  return body.result;
}
