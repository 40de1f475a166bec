import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { openStudio } from '../../../src/studio.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';

/** CLI io that keeps what a command printed. */
export function captureIO(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    isTTY: false,
    env: {},
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}

/** A library with a tiny trained run, and a folder of images to classify that holds three bad files. */
export interface TrainedFixture {
  root: string;
  lib: string;
  runId: number;
  /** Good images (copies of dataset images) in `batchDir`, sorted. */
  good: string[];
  /** `batchDir/bad/`: a corrupt JPEG, a 0-byte PNG and a text file. */
  bad: { corrupt: string; empty: string; text: string };
  batchDir: string;
  cleanup(): void;
}

/** Imports 3 shape classes × 16 images and trains alexnet-small 2 epochs on wasm (about 10 s on 2 cores). */
export async function trainedFixture(): Promise<TrainedFixture> {
  const t = tempDir('convnet-classify-');
  const images = path.join(t.dir, 'images');
  await writeShapesDataset(images, 16, 32, 1, ['circle', 'square', 'hstripes']);
  const lib = path.join(t.dir, 'lib');
  const io = captureIO();
  expect(await runCli(['import', images, '--library', lib, '--name', 'shapes', '--json'], io)).toBe(0);
  const datasetId = JSON.parse(io.stdout).dataset.id as number;
  const studio = openStudio({ libraryDir: lib, host: 'cli' });
  let runId: number;
  try {
    runId = (await studio.call('runs.start', { datasetId, arch: 'alexnet-small', epochs: 2, batchSize: 8, backend: 'wasm', seed: 5 })).id;
    await studio.training.settled(runId);
    expect((await studio.call('runs.get', { id: runId })).status).toBe('completed');
  } finally {
    await studio.close();
  }
  const batchDir = path.join(t.dir, 'to-classify');
  fs.mkdirSync(path.join(batchDir, 'bad'), { recursive: true });
  const good: string[] = [];
  for (const cls of ['circle', 'square', 'hstripes']) {
    for (const i of [0, 7]) {
      const file = path.join(batchDir, `${cls}-${i}.png`);
      fs.copyFileSync(path.join(images, cls, `${cls}-${String(i).padStart(4, '0')}.png`), file);
      good.push(file);
    }
  }
  good.sort();
  const bad = { corrupt: path.join(batchDir, 'bad', 'broken.jpg'), empty: path.join(batchDir, 'bad', 'empty.png'), text: path.join(batchDir, 'bad', 'notes.txt') };
  fs.writeFileSync(bad.corrupt, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('not really a jpeg')]));
  fs.writeFileSync(bad.empty, '');
  fs.writeFileSync(bad.text, 'a note, not an image\n');
  return { root: t.dir, lib, runId, good, bad, batchDir, cleanup: t.cleanup };
}
