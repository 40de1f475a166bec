// An image whose header is fine but whose data does not decode passes the import (which reads headers
// only) and is found when the training cache is built: the run leaves it out and says so, and the
// library marks it broken with the reason, where the gallery and the dataset's skipped list show it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openStudio, type Studio } from '../../../src/studio.js';
import { garbageBodyPng } from '../../helpers/image-folder.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';
import { importAndWait } from '../../unit/datasets/wait-import.js';

const t = tempDir();
let studio: Studio | undefined;
afterAll(async () => {
  await studio?.close();
  t.cleanup();
});

it('a broken image found by the training cache is left out of the run and marked broken in the library', async () => {
  const images = path.join(t.dir, 'images');
  await writeShapesDataset(images, 6, 32, 2, ['circle', 'checker']);
  fs.writeFileSync(path.join(images, 'circle', 'looks-fine.png'), garbageBodyPng());
  studio = openStudio({ libraryDir: path.join(t.dir, 'lib'), host: 'cli' });
  const done = await importAndWait(studio, { paths: [images], name: 'shapes', split: { train: 1, val: 0, test: 0, seed: 1 } });
  const datasetId = done.result!.dataset.id;
  const { items } = await studio.call('images.list', { datasetId, search: 'looks-fine', limit: 5 });
  expect(items).toHaveLength(1); // the import took it: its header, CRCs and IEND are right
  const broken = items[0]!.id;

  const { id } = await studio.call('runs.start', { datasetId, arch: 'alexnet-small', epochs: 1, batchSize: 8, backend: 'wasm', seed: 1 });
  await studio.training.settled(id);
  const run = await studio.call('runs.get', { id });
  expect(run.error).toBeNull();
  expect(run.status).toBe('completed');
  expect(run.log.map((l) => l.message)).toContainEqual(expect.stringMatching(new RegExp(`^1 image\\(s\\) could not be decoded and are left out of this run \\(e\\.g\\. image ${broken}: .+\\)\\.$`)));

  const image = await studio.call('images.get', { id: broken });
  expect(image.status).toBe('missing');
  expect(image.error).toMatch(/^corrupt PNG: .+ \(found when making its training cache\)$/);
  const dataset = await studio.call('datasets.get', { id: datasetId });
  expect(dataset.warnings).toContain('1 source file is missing or broken (gone at the last import, or found not to decode); they are left out of training.');
  const skipped = await studio.call('datasets.skipped', { id: datasetId });
  const entry = skipped.find((s) => s.path.endsWith('looks-fine.png'));
  expect(entry?.reason).toMatch(/^corrupt PNG: .+ \(found when making its training cache\)$/);
  expect((await studio.call('images.list', { datasetId, limit: 50 })).items.map((i) => i.id)).not.toContain(broken);
}, 300_000);
