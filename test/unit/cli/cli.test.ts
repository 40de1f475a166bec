import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import type { CliIO } from '../../../src/cli/command.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function captureIO(env: NodeJS.ProcessEnv = {}): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    isTTY: false,
    env,
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}

describe('convnet CLI', () => {
  it('--help lists the commands', async () => {
    const io = captureIO();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout).toMatch(/info\s+Show version/);
    expect(io.stdout).toMatch(/serve\s+Serve the UI/);
  });

  it('info --json reports version, library, backend and whether tensorflow loads', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const io = captureIO();
    expect(await runCli(['info', '--json', '--library', dir], io)).toBe(0);
    const info = JSON.parse(io.stdout);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.libraryPath).toBe(path.resolve(dir));
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.backend.name);
    expect(typeof info.tensorflowAvailable).toBe('boolean');
  });

  it('uses CONVNET_LIBRARY when --library is absent', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const io = captureIO({ CONVNET_LIBRARY: dir });
    expect(await runCli(['info', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout).libraryPath).toBe(path.resolve(dir));
  });

  it('explains unknown commands and options with exit code 2', async () => {
    const io = captureIO();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr).toMatch(/Unknown command "frobnicate"/);
    const io2 = captureIO();
    expect(await runCli(['info', '--nope'], io2)).toBe(2);
    expect(io2.stderr).toMatch(/Unknown option '--nope'/);
    expect(io2.stderr).toMatch(/Usage: convnet info/);
  });

  it('refuses a bad --port', async () => {
    const io = captureIO();
    expect(await runCli(['serve', '--port', 'eighty'], io)).toBe(2);
    expect(io.stderr).toMatch(/--port must be an integer/);
  });

  it('the installed bin prints pure JSON on stdout and exits', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'info', '--json', '--library', dir], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(0);
    expect(() => JSON.parse(result.stdout)).not.toThrow();
  });
});
