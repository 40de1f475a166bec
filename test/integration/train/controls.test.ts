// Stop, pause, resume and Ctrl+C on runs long enough that the controls matter: 2,000 shapes (1,600 for
// training) at 64 px on wasm in batches of 32, so an epoch is 50 batches of well over half a second each and
// "at the end of the epoch" is tens of seconds after "within one batch". A killed CLI process, a run that
// trains in another process, and checkpoint folders a killed writer left behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../../src/api/runs.js';
import { runCli } from '../../../src/cli/index.js';
import type { CliIO } from '../../../src/cli/command.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

const bin = path.join(repoRoot, 'bin', 'convnet.js');
const BATCHES = 50; // 1,600 training images / 32
const TRAIN = ['--epochs', '1', '--batch-size', '32', '--image-size', '64', '--backend', 'wasm', '--seed', '5'];
let lib: string;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const images = path.join(t.dir, 'images');
  await writeShapesDataset(images, 200, 32, 1);
  lib = path.join(t.dir, 'lib');
  const io: CliIO = { isTTY: false, env: {}, out: () => undefined, err: () => undefined };
  expect(await runCli(['import', images, '--library', lib, '--name', 'shapes', '--json'], io)).toBe(0);
}, 120_000);
afterAll(() => cleanup?.());

/** A `convnet` child process with its stdout and stderr collected and readable line by line. */
function convnet(args: string[]): { child: ChildProcess; out: () => string; err: () => string; line: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [bin, ...args, '--library', lib], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const seen: string[] = [];
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  readline.createInterface({ input: child.stderr! }).on('line', (l) => {
    err += `${l}\n`;
    seen.push(l);
    waiters.splice(0).forEach((w) => w());
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const line = (re: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no stderr line ${re} within ${timeoutMs} ms; stderr so far:\n${err}`)), timeoutMs);
      const check = (): void => {
        for (const l of seen) {
          const m = re.exec(l);
          if (m) {
            clearTimeout(timer);
            resolve(m);
            return;
          }
        }
        waiters.push(check);
      };
      check();
      void exit.then(() => setTimeout(() => reject(new Error(`convnet exited before printing ${re}; stderr:\n${err}`)), 50));
    });
  return { child, out: () => out, err: () => err, line, exit };
}

function checkpointPosition(runId: number): { epoch: number; batch: number } {
  return JSON.parse(fs.readFileSync(path.join(lib, 'runs', String(runId), 'checkpoint', 'checkpoint.json'), 'utf8')).position;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A dead process's PID (one that just ran and exited). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('Ctrl+C on `convnet train`', () => {
  it('stops within a batch with a checkpoint there; resume continues from it; a second Ctrl+C says it stops now', async () => {
    const train = convnet(['train', '--dataset', 'shapes', ...TRAIN]);
    await train.line(/Training alexnet-small at 64 px on 1600 images/);
    await sleep(3000); // a few batches in
    const t0 = Date.now();
    train.child.kill('SIGINT');
    const { code } = await train.exit;
    const seconds = (Date.now() - t0) / 1000;
    expect(train.err()).toContain('Stopping after the current batch');
    expect(train.out()).toContain('Run 1 stopped');
    expect(code).toBe(0);
    // The rest of the epoch alone is tens of seconds: this is one batch, the checkpoint and the exit.
    expect(seconds).toBeLessThan(15);
    const stoppedAt = checkpointPosition(1);
    expect(stoppedAt.epoch).toBe(0);
    expect(stoppedAt.batch).toBeGreaterThan(0);
    expect(stoppedAt.batch).toBeLessThan(BATCHES);
    expect(train.err()).toContain(`Stopped at epoch 1, batch ${stoppedAt.batch}; resume continues from there.`);

    // Resume picks up at that batch; Ctrl+C twice: the second says it stops at once, and the run is left resumable.
    const again = convnet(['resume', '--run', '1']);
    const resumedAt = await again.line(/Resuming from the checkpoint after epoch (\d+), batch (\d+)\./);
    expect([Number(resumedAt[1]), Number(resumedAt[2])]).toEqual([0, stoppedAt.batch]);
    await again.line(/Training alexnet-small/);
    again.child.kill('SIGINT');
    await again.line(/Stopping after the current batch/, 10_000);
    again.child.kill('SIGINT');
    const second = await again.exit;
    expect(again.err()).toMatch(/Stopping now, without waiting for the batch: the run is left interrupted, and `convnet resume --run 1` continues from its last checkpoint/);
    expect(second.signal).toBeNull(); // it said so and exited, rather than dying of the signal
    expect(again.out()).toMatch(/Run 1 (interrupted|stopped)/);

    const last = convnet(['resume', '--run', '1', '--json']);
    const done = await last.exit;
    expect(done.code, last.err()).toBe(0);
    const lines = last.out().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch).filter((e) => e !== undefined)).toEqual([1]);
    expect(lines.at(-1).run).toMatchObject({ id: 1, status: 'completed' });
    expect(checkpointPosition(1)).toMatchObject({ epoch: 1, batch: 0 });
  }, 400_000);
});

describe('pause, resume and stop through the API, as the UI sends them', () => {
  let studio: Studio;
  beforeAll(() => {
    studio = openStudio({ libraryDir: lib, host: 'server' });
  });
  afterAll(async () => studio?.close());

  it('each takes effect within one batch, and the run ends stopped at that batch', async () => {
    const statuses: Array<{ status: RunStatus; at: number }> = [];
    const progress: Array<{ batch: number; phase: string; at: number }> = [];
    let finished: { status: RunStatus; at: number } | null = null;
    const offs = [
      studio.events.on('run.status', (s) => statuses.push({ status: s.status, at: Date.now() })),
      studio.events.on('train.progress', (p) => progress.push({ batch: p.batch, phase: p.phase, at: Date.now() })),
      studio.events.on('run.finished', (f) => (finished = { status: f.status, at: Date.now() })),
    ];
    const until = async (what: () => boolean, timeoutMs: number, label: string): Promise<number> => {
      const t0 = Date.now();
      while (!what()) {
        if (Date.now() - t0 > timeoutMs) {
          throw new Error(`${label}: not within ${timeoutMs} ms (statuses ${JSON.stringify(statuses.map((s) => s.status))}, last batch ${progress.at(-1)?.batch})`);
        }
        await sleep(20);
      }
      return (Date.now() - t0) / 1000;
    };
    const trainingBatch = (): number => progress.filter((p) => p.phase === 'training').at(-1)?.batch ?? 0;
    try {
      const { id } = await studio.call('runs.start', { datasetId: 1, epochs: 1, batchSize: 32, imageSize: 64, backend: 'wasm', seed: 7 });
      await until(() => trainingBatch() >= 2, 180_000, 'training');

      // Pause: the worker finishes the batch in hand, then says paused; no batch trains while paused.
      const pausedFrom = trainingBatch();
      await studio.call('runs.pause', { id });
      const pauseSeconds = await until(() => statuses.some((s) => s.status === 'paused'), 20_000, 'paused');
      expect(pauseSeconds).toBeLessThan(10);
      expect((await studio.call('runs.get', { id })).status).toBe('paused');
      const pausedAt = trainingBatch();
      expect(pausedAt - pausedFrom).toBeLessThanOrEqual(3);
      await sleep(2500);
      expect(trainingBatch()).toBe(pausedAt);
      expect((await studio.call('runs.list')).find((r) => r.id === id)?.status).toBe('paused');

      // Resume: running again at once, and batches move on from where they stood.
      await studio.call('runs.resume', { id });
      await until(() => statuses.at(-1)?.status === 'running', 5000, 'running again');
      await until(() => trainingBatch() > pausedAt, 20_000, 'batches after resume');

      // Stop: the run ends stopped within one batch, checkpointed at that batch, long before the epoch's end.
      const stopFrom = trainingBatch();
      const t0 = Date.now();
      await studio.call('runs.stop', { id });
      await studio.training.settled(id);
      expect((Date.now() - t0) / 1000).toBeLessThan(15);
      expect(finished).toMatchObject({ status: 'stopped' });
      const run = await studio.call('runs.get', { id });
      expect(run.status).toBe('stopped');
      const at = checkpointPosition(id);
      expect(at.epoch).toBe(0);
      expect(at.batch).toBeGreaterThanOrEqual(stopFrom);
      expect(at.batch).toBeLessThanOrEqual(stopFrom + 3);
      expect(run.log.map((l) => l.message)).toContain(`Stopped at epoch 1, batch ${at.batch}; resume continues from there.`);
    } finally {
      offs.forEach((off) => off());
    }
  }, 400_000);
});

describe('a run whose process was killed, and one that trains in another process', () => {
  it('names the process (PID, host) that trains it; once that process is killed (-9), resume is accepted at once', async () => {
    const train = convnet(['train', '--dataset', 'shapes', ...TRAIN]);
    await train.line(/Training alexnet-small/);
    const id = 3;
    const studio = openStudio({ libraryDir: lib, host: 'server' });
    try {
      const where = new RegExp(`Run ${id} is running in process ${train.child.pid} on ${os.hostname()}`);
      await expect(studio.call('runs.resume', { id })).rejects.toThrow(where);
      await expect(studio.call('runs.stop', { id })).rejects.toThrow(where);
      await expect(studio.call('runs.pause', { id })).rejects.toThrow(where);
      await expect(studio.call('runs.delete', { id })).rejects.toThrow(where);
      expect((await studio.call('runs.get', { id })).status).toBe('running');

      train.child.kill('SIGKILL');
      await train.exit;
      // No waiting for a heartbeat to go stale: the owner's PID is dead, so the run reads as interrupted now.
      const run = await studio.call('runs.get', { id });
      expect(run.status).toBe('interrupted');
      expect(run.error).toMatch(new RegExp(`The process training this run \\(process ${train.child.pid} on ${os.hostname()}\\) ended unexpectedly`));
      const resumed = await studio.call('runs.resume', { id });
      expect(['queued', 'running']).toContain(resumed.status);
      await studio.call('runs.stop', { id });
      await studio.training.settled(id);
      expect((await studio.call('runs.get', { id })).status).toBe('stopped');
    } finally {
      await studio.close();
    }
  }, 300_000);

  it('a server already open sees the kill too, and can then delete the run', async () => {
    const studio = openStudio({ libraryDir: lib, host: 'server' });
    try {
      const train = convnet(['train', '--dataset', 'shapes', ...TRAIN]);
      await train.line(/Training alexnet-small/);
      const id = 4;
      expect((await studio.call('runs.list')).find((r) => r.id === id)?.status).toBe('running');
      train.child.kill('SIGKILL');
      await train.exit;
      expect((await studio.call('runs.list')).find((r) => r.id === id)?.status).toBe('interrupted');
      expect(await studio.call('runs.delete', { id })).toEqual({ deleted: true });
    } finally {
      await studio.close();
    }
  }, 300_000);
});

describe('checkpoint folders a killed writer left', () => {
  it('are removed when the library opens (unless their writer lives) and when the run trains again', async () => {
    const runDir = path.join(lib, 'runs', '3');
    const dead = path.join(runDir, `checkpoint.tmp-${deadPid()}-1700000000000`);
    const live = path.join(runDir, `checkpoint.tmp-${process.pid}-1700000000001`);
    for (const dir of [dead, live]) {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'weights.bin'), 'partial');
    }
    const studio = openStudio({ libraryDir: lib, host: 'server' });
    try {
      expect(fs.existsSync(dead)).toBe(false);
      expect(fs.existsSync(live)).toBe(true); // its PID is alive: it may be a writer's
      expect(fs.existsSync(path.join(runDir, 'checkpoint', 'checkpoint.json'))).toBe(true);
      // Resumed here, the run is this process's: no other writer can exist, every leftover goes.
      await studio.call('runs.resume', { id: 3 });
      await studio.call('runs.stop', { id: 3 });
      await studio.training.settled(3);
      expect(fs.readdirSync(runDir).filter((n) => n.startsWith('checkpoint.'))).toEqual([]);
      expect(fs.existsSync(path.join(runDir, 'checkpoint', 'checkpoint.json'))).toBe(true);
    } finally {
      await studio.close();
    }
  }, 300_000);
});
