import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commands, runCli } from '../../../src/cli/index.js';
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

  it('every command\'s --help lists each of its options with its meaning, and defaults where it has one', async () => {
    for (const command of commands) {
      const io = captureIO();
      expect(await runCli([command.name, '--help'], io)).toBe(0);
      expect(io.stdout).toMatch(new RegExp(`^Usage: convnet ${command.name}`, 'm'));
      expect(io.stdout).toMatch(/^Options:$/m);
      for (const option of Object.keys(command.options)) {
        // The option's own line: the flag, two spaces, then words.
        expect(io.stdout, `convnet ${command.name} --help: --${option}`).toMatch(new RegExp(`^  --${option}\\b[^\\n]*  \\S.{10,}`, 'm'));
      }
    }
    const train = captureIO();
    await runCli(['train', '--help'], train);
    expect(train.stdout).toMatch(/--epochs N\s+passes over the training images \(default: 90\)/);
    expect(train.stdout).toMatch(/--batch-size N\s+images per SGD step \(default: 128/);
    expect(train.stdout).toMatch(/--time-limit MINUTES\s+stop cleanly after this many minutes/);
    const evaluate = captureIO();
    await runCli(['eval', '--help'], evaluate);
    expect(evaluate.stdout).toMatch(/--split NAME\s+val, test or train \(default: val\)/);
  });

  it('--help lists `runs`, the command that shows the ids eval, classify and export take', async () => {
    const io = captureIO();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout).toMatch(/^  runs\s+List the runs in the library/m);
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

  it('info names the threads the backend computes with (CONVNET_THREADS, else every core)', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const saved = process.env.CONVNET_THREADS;
    process.env.CONVNET_THREADS = '3';
    try {
      const io = captureIO();
      expect(await runCli(['info', '--library', dir], io)).toBe(0);
      // wasm here (tensorflow, where installed, computes on every core)
      expect(io.stdout).toMatch(/^backend {3}(wasm — .*, 3 threads|tensorflow — .*, \d+ threads)$/m);
    } finally {
      if (saved === undefined) {
        delete process.env.CONVNET_THREADS;
      } else {
        process.env.CONVNET_THREADS = saved;
      }
    }
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
