import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportFinished } from '../../../src/api/datasets.js';
import { importJobsOf } from '../../../src/datasets/handlers.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { makeImageFolder, type ImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';
import { importAndWait } from './wait-import.js';

let tmp: { dir: string; cleanup(): void };
let folder: ImageFolder;
let studio: Studio;
// Enough files that indexing outlasts a few progress reports (150 ms apart) even though it no longer decodes them.
const TOTAL = 3000;

beforeAll(async () => {
  tmp = tempDir('convnet-cancel-');
  folder = await makeImageFolder(path.join(tmp.dir, 'many'), { classes: { a: TOTAL / 3, b: TOTAL / 3, c: TOTAL / 3 }, formats: ['png', 'jpeg'], width: 24, height: 24 });
  studio = openStudio({ libraryDir: path.join(tmp.dir, 'lib'), host: 'server' });
});

afterAll(async () => {
  await studio.close();
  tmp.cleanup();
});

/** Starts an import and stops it (cancel or kill) once some images are committed. */
async function interrupt(how: 'cancel' | 'kill'): Promise<ImportFinished> {
  const finished = new Promise<ImportFinished>((resolve) => studio.events.on('import.finished', resolve));
  const { jobId } = await studio.call('datasets.import', { paths: [folder.root] });
  // Indexing no longer decodes and is fast: the job is stopped in the progress handler itself (the cancel flag is
  // shared memory the import thread reads between files), not after further API round trips.
  let cancelled: Promise<{ cancelled: boolean }> | null = null;
  let killed: Promise<void> | null = null;
  let listed: string[] = [];
  await new Promise<void>((resolve) => {
    const off = studio.events.on('import.progress', (p) => {
      if (p.jobId === jobId && p.phase === 'indexing' && p.indexed >= 20) {
        off();
        listed = importJobsOf(studio).list().map((j) => j.jobId);
        if (how === 'cancel') {
          cancelled = studio.call('datasets.cancelImport', { jobId });
        } else {
          killed = importJobsOf(studio).kill(jobId);
        }
        resolve();
      }
    });
  });
  expect(listed).toEqual([jobId]);
  if (how === 'cancel') {
    expect(await cancelled).toEqual({ cancelled: true });
  } else {
    await killed;
  }
  return finished;
}

function integrity(): string {
  return studio.library.db.pragma('integrity_check', { simple: true }) as string;
}

describe('interrupted imports', () => {
  it('cancel mid-import keeps the library consistent, and a re-run finishes without re-reading what was indexed', async () => {
    const cancelled = await interrupt('cancel');
    expect(cancelled.error?.code).toBe('cancelled');
    expect(integrity()).toBe('ok');
    const [summary] = await studio.call('datasets.list');
    expect(summary!.state).toBe('incomplete');
    expect(summary!.images).toBeGreaterThanOrEqual(20);
    expect(summary!.images).toBeLessThan(TOTAL);
    expect(summary!.warnings[0]).toMatch(/did not finish/);
    const rerun = await importAndWait(studio, { paths: [folder.root] });
    expect(rerun.result!.dataset.images).toBe(TOTAL);
    expect(rerun.progress.at(-1)!.hashed).toBe(TOTAL - summary!.images);
    expect((await studio.call('datasets.list'))[0]!.state).toBe('ready');
  });

  it('a killed import thread leaves the library consistent and a re-run completes', async () => {
    await studio.call('datasets.delete', { id: (await studio.call('datasets.list'))[0]!.id });
    const killed = await interrupt('kill');
    expect(killed.error?.code).toBe('internal');
    expect(killed.error?.message).toMatch(/stopped unexpectedly/);
    expect(integrity()).toBe('ok');
    const [summary] = await studio.call('datasets.list');
    expect(summary!.state).toBe('incomplete');
    const rerun = await importAndWait(studio, { paths: [folder.root] });
    expect(rerun.result!.dataset.images).toBe(TOTAL);
    expect(rerun.progress.at(-1)!.hashed).toBe(TOTAL - summary!.images);
    expect(integrity()).toBe('ok');
  });
});
