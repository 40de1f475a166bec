// The `convnet serve` process as a user runs it in a terminal: the PID it prints, a port already taken,
// and npx's child left behind when the npx process is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/temp.js';

const bin = path.join(repoRoot, 'bin', 'convnet.js');
const t = tempDir();
const started: ChildProcess[] = [];
const orphans: number[] = [];

afterAll(() => {
  for (const child of started) {
    child.kill('SIGKILL');
  }
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  t.cleanup();
});

/** Starts `argv` under node with piped output, and resolves the first stdout line matching `wanted`. */
function startAndWait(argv: string[], wanted: RegExp, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; line: Promise<string>; output: () => string } {
  const child = spawn(process.execPath, argv, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONVNET_LIBRARY: '', ...env } });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const line = new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => wanted.test(l) && resolve(l));
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  return { child, line, output: () => output };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

describe('the convnet serve process', () => {
  it('prints its own PID beside the library', async () => {
    const run = startAndWait([bin, 'serve', '--library', path.join(t.dir, 'a'), '--port', '0'], /token=/);
    await run.line;
    expect(run.output()).toContain(`(PID ${run.child.pid})`);
    run.child.kill('SIGTERM');
    expect(await exited(run.child)).toBe(0);
  });

  it('says in one sentence that the port is taken, and how to choose another', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = startAndWait([bin, 'serve', '--library', path.join(t.dir, 'b'), '--port', String(port)], /never/);
      run.line.catch(() => undefined);
      expect(await exited(run.child)).toBe(1);
      expect(run.output()).toBe(
        `convnet serve: Port ${port} is already in use (another convnet serve, or another program). Choose another with --port N, or leave --port out for a free one.\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('stops when the npm process that started it is killed (npx convnet serve &, then kill)', async () => {
    // A stand-in for npx: a node process with npm's environment whose child is the server.
    const npx = `require('child_process').spawn(process.execPath, ${JSON.stringify([bin, 'serve', '--library', path.join(t.dir, 'c'), '--port', '0', '--json'])}, { stdio: 'inherit' }); console.log(JSON.stringify({ child: c.pid })); setInterval(() => {}, 1000);`;
    const run = startAndWait(['-e', `const c = ${npx}`], /"url"/, { npm_command: 'exec' });
    const info = JSON.parse(await run.line) as { url: string; pid: number };
    const child = (JSON.parse(run.output().split('\n')[0]!) as { child: number }).child;
    orphans.push(child);
    expect(info.pid).toBe(child);
    const ping = (): Promise<number> =>
      fetch(`${new URL(info.url).origin}/api/app.ping`, { method: 'POST', headers: { Authorization: `Bearer ${new URL(info.url).searchParams.get('token')}` } }).then(
        (r) => r.status,
        () => 0,
      );
    expect(await ping()).toBe(200);
    run.child.kill('SIGKILL');
    await expect.poll(ping, { timeout: 15_000, interval: 250 }).toBe(0);
    expect(run.output()).toMatch(/the npm process that started it \(PID \d+\) has exited; stopping/);
  });
});
