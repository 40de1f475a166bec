// A run follows from its config: the same seed gives the same starting weights, data order,
// augmentation and dropout masks, so on the same backend it trains to the very same numbers; another
// seed does not.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStudio, type Studio } from '../../../src/studio.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';
import { importAndWait } from '../../unit/datasets/wait-import.js';

const t = tempDir();
let studio: Studio;
let datasetId: number;

beforeAll(async () => {
  const images = path.join(t.dir, 'images');
  await writeShapesDataset(images, 10, 32, 4, ['circle', 'checker', 'cross']);
  studio = openStudio({ libraryDir: path.join(t.dir, 'lib'), host: 'cli' });
  datasetId = (await importAndWait(studio, { paths: [images], name: 'shapes' })).result!.dataset.id;
}, 120_000);
afterAll(async () => {
  await studio?.close();
  t.cleanup();
});

async function train(seed: number): Promise<Array<{ trainLoss: number; valLoss: number | null; valTop1Error: number | null }>> {
  // Dropout on (the paper's 0.5), crops, flips and PCA lighting on: every random draw of a step.
  const { id } = await studio.call('runs.start', { datasetId, arch: 'alexnet-small', epochs: 2, batchSize: 8, lr: 0.01, backend: 'wasm', seed });
  await studio.training.settled(id);
  const run = await studio.call('runs.get', { id });
  expect(run.status).toBe('completed');
  return run.epochsData.map((e) => ({ trainLoss: e.trainLoss, valLoss: e.valLoss, valTop1Error: e.valTop1Error }));
}

it('the same seed trains to the same numbers; another seed to others', async () => {
  const first = await train(11);
  const again = await train(11);
  expect(again).toEqual(first);
  const other = await train(12);
  expect(other[0]!.trainLoss).not.toBe(first[0]!.trainLoss);
}, 600_000);
