// One run session, two trainers: the same small run trained by the tfjs loop in this process and by a
// compute window (the real page trainer behind the protocol, in this process) must leave the same
// traces: status, heartbeat and owner while training, epoch rows, checkpoint, predictions, the finish;
// and a failure in training ends `failed` in both, while a lost window ends `interrupted`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TrainConfig, type TrainConfigInput } from '../../../src/api/runs.js';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { openLibrary, type Library } from '../../../src/library/open.js';
import { checkpointDir, loadCheckpoint } from '../../../src/runs/checkpoint.js';
import { configDiff } from '../../../src/runs/config.js';
import type { FromRunWorker } from '../../../src/train/messages.js';
import { runDirOf } from '../../../src/runs/run-folder.js';
import { HEARTBEAT_EVERY_MS } from '../../../src/runs/run-owner.js';
import { runSession } from '../../../src/train/run-session.js';
import { claimRun, getRunDetail, runRow } from '../../../src/runs/run-store.js';
import { TfjsTrainer } from '../../../src/train/tfjs-trainer.js';
import type { RunControl, Trainer } from '../../../src/train/trainer.js';
import { WindowTrainer } from '../../../src/train/window-trainer.js';
import { inProcessWindow, type InProcessWindow } from '../../helpers/in-process-window.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';

const RUN = { arch: 'alexnet-small', imageSize: 16, epochs: 2, batchSize: 8, lr: 0.01, dropout: 0, seed: 5 } as const;

let lib: Library;
let datasetId: number;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const images = path.join(t.dir, 'images');
  await writeShapesDataset(images, 10, 16, 3, ['circle', 'hstripes', 'checker']);
  const dir = path.join(t.dir, 'lib');
  const io = { stdout: '', isTTY: false, env: {}, out: (s: string) => void (io.stdout += s), err: () => undefined } satisfies CliIO & { stdout: string };
  expect(await runCli(['import', images, '--library', dir, '--name', 'shapes', '--json'], io)).toBe(0);
  datasetId = (JSON.parse(io.stdout) as { dataset: { id: number } }).dataset.id;
  lib = openLibrary(dir);
}, 60_000);
afterAll(() => {
  lib?.close();
  cleanups.forEach((c) => c());
});

/** A run row as runs.start writes it, claimed by this process. */
function newRun(input: Omit<TrainConfigInput, 'datasetId'>): number {
  const config = TrainConfig.parse({ datasetId, ...input });
  const id = Number(
    lib.db
      .prepare(`INSERT INTO runs (dataset_id, dataset_name, arch, status, config, config_diff, created_at) VALUES (?, 'shapes', ?, 'queued', ?, ?, ?)`)
      .run(datasetId, config.arch, JSON.stringify(config), JSON.stringify(configDiff(config)), Date.now()).lastInsertRowid,
  );
  claimRun(lib.db, id);
  return id;
}

interface Trace {
  messages: FromRunWorker[];
  /** The row's owner and heartbeat when the first epoch was reported. */
  whileTraining: { owner_pid: number | null; heartbeat_at: number | null; status: string } | null;
  began: number;
  /** When the test wiped the row's heartbeat and owner, once training had begun. */
  wiped: number;
}

/**
 * Runs one session of `runId` with `trainer`. At the first training progress the row's heartbeat and owner are
 * wiped and one heartbeat period passes (fake interval timers): only the session's running heartbeat writes them
 * back before the first epoch is reported. Then `onTraining` is called.
 */
async function session(runId: number, trainer: Trainer, onTraining: () => void = () => undefined): Promise<Trace> {
  const trace: Trace = { messages: [], whileTraining: null, began: Date.now(), wiped: Infinity };
  let training = false;
  const control: RunControl = { paused: false, stopRequested: false, waitWhilePaused: async () => undefined };
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  try {
    await runSession(lib.db, lib.dir, runId, false, control, (m) => {
      trace.messages.push(m);
      if (m.type === 'progress' && m.phase === 'training' && !training) {
        training = true;
        trace.wiped = Date.now();
        lib.db.prepare('UPDATE runs SET heartbeat_at = NULL, owner_pid = NULL, owner_host = NULL WHERE id = ?').run(runId);
        vi.advanceTimersByTime(HEARTBEAT_EVERY_MS);
        onTraining();
      }
      if (m.type === 'epoch' && !trace.whileTraining) {
        trace.whileTraining = lib.db.prepare('SELECT owner_pid, heartbeat_at, status FROM runs WHERE id = ?').get(runId) as Trace['whileTraining'];
      }
    }, trainer);
  } finally {
    vi.useRealTimers();
  }
  return trace;
}

/** What a run left behind that must not depend on its trainer. */
function tracesOf(runId: number, trace: Trace) {
  const detail = getRunDetail(lib.db, runId);
  const row = runRow(lib.db, runId);
  const types = trace.messages.map((m) => m.type);
  const finished = trace.messages.at(-1);
  return {
    status: detail.status,
    error: detail.error,
    started: detail.startedAt !== null && detail.startedAt >= trace.began,
    finishedAt: detail.finishedAt !== null && detail.finishedAt >= trace.began,
    epochsDone: detail.epochsDone,
    epochRows: detail.epochsData.map((e) => ({ epoch: e.epoch, hasVal: e.valTop1Error !== null, finite: Number.isFinite(e.trainLoss) })),
    bestRecorded: detail.bestValTop1Error !== null,
    heartbeatWhileTraining: trace.whileTraining !== null && trace.whileTraining.owner_pid === process.pid && (trace.whileTraining.heartbeat_at ?? 0) >= trace.wiped,
    statusWhileTraining: trace.whileTraining?.status ?? null,
    snapshotTaken: row.snapshot_hash !== null && row.colour_stats !== null,
    checkpointAt: fs.existsSync(path.join(checkpointDir(runDirOf(lib.dir, runId)), 'checkpoint.json')) ? loadCheckpoint(runDirOf(lib.dir, runId))!.meta.position.epoch : null,
    testPredictions: (lib.db.prepare(`SELECT COUNT(*) AS n FROM prediction_sets WHERE run_id = ?`).get(runId) as { n: number }).n > 0,
    firstMessage: trace.messages[0],
    epochMessages: types.filter((t) => t === 'epoch').length,
    finished: finished?.type === 'finished' ? { status: finished.status, error: finished.error !== null } : null,
    logsTraining: detail.log.some((l) => l.message.startsWith(`Training alexnet-small at 16 px on `)),
  };
}

describe('one run session behind both trainers', () => {
  it('a run trained by the tfjs loop and by a compute window records the same status, rows, heartbeat and finish', async () => {
    const node = newRun({ ...RUN, backend: 'cpu' });
    const nodeTrace = await session(node, new TfjsTrainer(lib.dir));
    const window = inProcessWindow();
    const compute = newRun({ ...RUN, backend: 'webgpu' });
    const computeTrace = await session(compute, new WindowTrainer(window.link));

    const a = tracesOf(node, nodeTrace);
    const b = tracesOf(compute, computeTrace);
    expect(a.error).toBeNull();
    expect(a).toMatchObject({ status: 'completed', epochsDone: 2, heartbeatWhileTraining: true, statusWhileTraining: 'running', checkpointAt: 2, testPredictions: true, epochMessages: 2 });
    expect(b).toEqual(a);
    // What differs is where it trained, recorded as such.
    expect(runRow(lib.db, node).backend).toBe('cpu');
    expect(runRow(lib.db, compute)).toMatchObject({ backend: 'webgpu', threads: null });
    expect(runRow(lib.db, compute).device).toMatch(/tfjs cpu in the test process/);
    expect(getRunDetail(lib.db, compute).log.some((l) => l.message.endsWith('in the compute window.'))).toBe(true);
    // The same loop on the same backend from the same seed and data: the same losses, whichever side normalised the pixels.
    const losses = (id: number) => getRunDetail(lib.db, id).epochsData.map((e) => e.trainLoss);
    losses(compute).forEach((loss, i) => expect(loss).toBeCloseTo(losses(node)[i]!, 3));
  }, 240_000);

  it('a checkpoint that cannot be written fails the run in both, with the reason', async () => {
    // A non-empty folder where the checkpoint swap moves the previous checkpoint: the first save fails.
    const block = (runId: number) => (): void => {
      const dir = runDirOf(lib.dir, runId);
      fs.mkdirSync(checkpointDir(dir), { recursive: true });
      fs.mkdirSync(`${checkpointDir(dir)}.old-${process.pid}`, { recursive: true });
      fs.writeFileSync(path.join(`${checkpointDir(dir)}.old-${process.pid}`, 'in-the-way'), 'x');
    };
    const node = newRun({ ...RUN, backend: 'cpu' });
    const nodeTrace = await session(node, new TfjsTrainer(lib.dir), block(node));
    const compute = newRun({ ...RUN, backend: 'webgpu' });
    const computeTrace = await session(compute, new WindowTrainer(inProcessWindow().link), block(compute));

    const a = tracesOf(node, nodeTrace);
    const b = tracesOf(compute, computeTrace);
    expect(a).toMatchObject({ status: 'failed', epochsDone: 0, heartbeatWhileTraining: false, finished: { status: 'failed', error: true }, finishedAt: true });
    // The page adds that the host could not save; the reason is the same.
    expect({ ...b, error: null }).toEqual({ ...a, error: null });
    expect(a.error).toMatch(/ENOTEMPTY|not empty/);
    expect(b.error).toMatch(/ENOTEMPTY|not empty/);
  }, 240_000);

  it('a compute window lost mid-run interrupts the run (resumable), it does not fail it', async () => {
    const window: InProcessWindow = inProcessWindow();
    const compute = newRun({ ...RUN, backend: 'webgpu' });
    const trace = await session(compute, new WindowTrainer(window.link), () => window.lose('The compute window went away.'));
    const t = tracesOf(compute, trace);
    expect(t).toMatchObject({ status: 'interrupted', finished: { status: 'interrupted', error: true }, finishedAt: true });
    expect(t.error).toMatch(/^The compute window went away\. The run stopped at its last checkpoint \(after epoch 0\); resume continues from there/);
  }, 240_000);
});
