import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, type Studio } from '../../../src/studio.js';
import { garbageBodyPng, makeImageFolder, hashTree, type ImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';
import { packImages } from '../../../src/images/pack-images.js';
import { recordUndecodable } from '../../../src/datasets/import-writer.js';
import { importAndWait } from './wait-import.js';

let tmp: { dir: string; cleanup(): void };
let folder: ImageFolder;
let studio: Studio;
let treeBefore: string;

beforeAll(async () => {
  tmp = tempDir('convnet-import-');
  folder = await makeImageFolder(path.join(tmp.dir, 'pets'), {
    classes: { cat: 14, dog: 12, fox: 11 },
    bad: ['empty', 'truncated', 'textAsJpeg', 'bomb', 'unreadable', 'symlinkLoop', 'dirLoop', 'nonUtf8Name', 'longName', 'duplicate', 'bmp'],
  });
  treeBefore = hashTree(folder.root);
  studio = openStudio({ libraryDir: path.join(tmp.dir, 'lib'), host: 'cli' });
});

afterAll(async () => {
  await studio.close();
  tmp.cleanup();
});

const reasonOf = (skipped: Array<{ path: string; reason: string }>, file: string | Buffer | undefined): string | undefined => {
  const shown = Buffer.isBuffer(file) ? file.toString('utf8') : file;
  return skipped.find((s) => s.path === shown)?.reason;
};

describe('importing a class-per-folder tree with bad files', () => {
  let first: Awaited<ReturnType<typeof importAndWait>>;

  beforeAll(async () => {
    first = await importAndWait(studio, { paths: [folder.root] });
  });

  it('indexes every good image, per class, in every written format (long names included)', () => {
    expect(first.error).toBeNull();
    const result = first.result!;
    // The 250-byte name is a good PNG in cat; the chmod-000 file is readable only when running as root.
    const extraCat = 1 + (folder.unreadableIsReadable ? 1 : 0);
    expect(result.dataset.classes).toEqual([
      { name: 'cat', count: 14 + extraCat },
      { name: 'dog', count: 12 },
      { name: 'fox', count: 11 },
    ]);
    expect(result.dataset.images).toBe(37 + extraCat);
    expect(result.dataset.name).toBe('pets');
  });

  it('lists each bad file with a specific reason, and never fails the import', () => {
    const skipped = first.result!.skipped;
    expect(reasonOf(skipped, folder.bad.empty)).toBe('empty file (0 bytes)');
    expect(reasonOf(skipped, folder.bad.truncated)).toMatch(/^corrupt or truncated JPEG: the file ends before the image data does/);
    expect(reasonOf(skipped, folder.bad.textAsJpeg)).toMatch(/^not an image: it contains text/);
    expect(reasonOf(skipped, folder.bad.bomb)).toMatch(/12000×12000 \(144 MP\) exceeds the 100 MP limit/);
    expect(reasonOf(skipped, folder.bad.symlinkLoop)).toBe('symbolic link loop');
    expect(reasonOf(skipped, folder.bad.dirLoop)).toMatch(/symbolic link loop: points back/);
    expect(reasonOf(skipped, folder.bad.nonUtf8Name)).toMatch(/not valid UTF-8/);
    expect(reasonOf(skipped, folder.bad.bmp)).toMatch(/unsupported format: BMP/);
    expect(reasonOf(skipped, folder.bad.longName)).toBeUndefined();
    if (folder.unreadableIsReadable) {
      // Running as root: chmod 000 does not stop root from reading, so the file is imported like any other.
      console.info('running as root: the chmod-000 file is readable, its skip is not asserted');
      expect(reasonOf(skipped, folder.bad.unreadable)).toBeUndefined();
    } else {
      expect(reasonOf(skipped, folder.bad.unreadable)).toBe('unreadable: permission denied');
    }
  });

  it('reports a duplicate by content and keeps it once', async () => {
    const reason = reasonOf(first.result!.skipped, folder.bad.duplicate);
    expect(reason).toBe(`duplicate of ${path.join(folder.root, 'cat', 'img-0000.jpg')}`);
    const detail = await studio.call('datasets.get', { id: first.result!.dataset.id });
    expect(detail.duplicates).toBe(1);
    expect(detail.skipped).toBe(first.result!.skipped.length);
    const skippedPage = await studio.call('datasets.skipped', { id: detail.id, limit: 100 });
    expect(skippedPage.find((s) => s.kind === 'duplicate')?.path).toBe(folder.bad.duplicate);
  });

  it('assigns a stratified 80/10/10 split and stores its seed', async () => {
    const detail = await studio.call('datasets.get', { id: first.result!.dataset.id });
    expect(detail.split).toEqual({ train: 0.8, val: 0.1, test: 0.1, seed: 0, given: false, valFromTrain: null });
    for (const c of detail.classList) {
      expect(c.splitCounts.val).toBe(Math.round(c.count * 0.1));
      expect(c.splitCounts.test).toBe(Math.round(c.count * 0.1));
    }
    expect(first.result!.dataset.splits.train + first.result!.dataset.splits.val + first.result!.dataset.splits.test).toBe(first.result!.dataset.images);
  });

  it('streams progress with seen/indexed/skipped counts, rate and ETA', () => {
    expect(first.progress.length).toBeGreaterThanOrEqual(3);
    const last = first.progress.at(-1)!;
    expect(last.phase).toBe('done');
    expect(last.indexed).toBe(first.result!.dataset.images);
    expect(last.skipped).toBe(first.result!.skipped.length);
    expect(last.duplicates).toBe(1);
    expect(last.ratePerSecond).toBeGreaterThan(0);
    expect(first.progress.some((p) => p.phase === 'indexing')).toBe(true);
  });

  it('never modifies the source folder', () => {
    expect(hashTree(folder.root)).toBe(treeBefore);
  });

  it('re-imports incrementally: unchanged files are not read again, changed ones are', async () => {
    const again = await importAndWait(studio, { paths: [folder.root] });
    expect(again.result!.dataset.id).toBe(first.result!.dataset.id);
    expect(again.progress.at(-1)!.hashed).toBe(0);
    expect(again.result).toEqual(first.result);
    const firstFile = (dir: string): string => path.join(folder.root, dir, fs.readdirSync(path.join(folder.root, dir)).find((n) => n.startsWith('img-0000'))!);
    const changed = firstFile('dog');
    fs.copyFileSync(firstFile('fox'), changed + '.tmp');
    fs.renameSync(changed + '.tmp', changed);
    const third = await importAndWait(studio, { paths: [folder.root] });
    expect(third.progress.at(-1)!.hashed).toBe(1);
    // Its content is now a copy of a fox image: reported as a duplicate, no longer a dog.
    expect(reasonOf(third.result!.skipped, changed)).toMatch(/^duplicate of /);
    expect(third.result!.dataset.classes.find((c) => c.name === 'dog')!.count).toBe(11);
  });

  it('lists datasets with counts, balance, size and warnings', async () => {
    const [summary] = await studio.call('datasets.list');
    expect(summary!.classes).toBe(3);
    expect(summary!.balance.smallest).toBe(11);
    expect(summary!.sizeBytes).toBeGreaterThan(0);
    expect(summary!.state).toBe('ready');
    expect(summary!.warnings.join(' ')).toMatch(/files? skipped/);
  });
});

describe('given splits and labels files', () => {
  it('keeps train/val/test folders as given splits', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'given'), { classes: { a: { train: 6, val: 2, test: 1 }, b: { train: 5, val: 1, test: 2 } }, seed: 7 });
    fs.renameSync(path.join(f.root, 'val'), path.join(f.root, 'validation'));
    const done = await importAndWait(studio, { paths: [f.root], name: 'given' });
    expect(done.result!.dataset.splits).toEqual({ train: 11, val: 3, test: 3 });
    const detail = await studio.call('datasets.get', { id: done.result!.dataset.id });
    expect(detail.split.given).toBe(true);
    expect(detail.classList.map((c) => [c.name, c.splitCounts])).toEqual([
      ['a', { train: 6, val: 2, test: 1 }],
      ['b', { train: 5, val: 1, test: 2 }],
    ]);
  });

  it('reads a CSV of path,label[,split] with relative and absolute paths, and reports bad rows', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'flat'), { classes: { x: 4 }, seed: 9 });
    const files = ['img-0000.jpg', 'img-0001.png', 'more/img-0002.webp', 'img-0003.gif'];
    const csv = path.join(f.root, 'labels.csv');
    fs.writeFileSync(
      csv,
      ['file,label,split', `x/${files[0]},red,train`, `"x/${files[1]}",red,val`, `${path.join(f.root, 'x', files[2]!)},blue,test`, `x/${files[3]},blue,`, 'x/missing.jpg,blue,train', `x/${files[0]},,train`].join('\n'),
    );
    const done = await importAndWait(studio, { paths: [csv] });
    expect(done.result!.dataset.name).toBe('labels');
    expect(done.result!.dataset.classes).toEqual([
      { name: 'blue', count: 2 },
      { name: 'red', count: 2 },
    ]);
    const reasons = done.result!.skipped.map((s) => s.reason);
    expect(reasons).toContain('labels.csv line 6: file not found');
    expect(reasons).toContain('labels.csv line 7: no label');
  });

  it('splits deterministically for a seed, independent of file names', async () => {
    const a = await makeImageFolder(path.join(tmp.dir, 'seed-a'), { classes: { p: 20, q: 20 }, seed: 3 });
    const b = path.join(tmp.dir, 'seed-b');
    fs.cpSync(a.root, b, { recursive: true });
    const one = await importAndWait(studio, { paths: [a.root], split: { train: 0.5, val: 0.25, test: 0.25, seed: 42 } });
    const two = await importAndWait(studio, { paths: [b], split: { train: 0.5, val: 0.25, test: 0.25, seed: 42 } });
    const splitsOf = async (id: number) =>
      (await studio.call('images.list', { datasetId: id, limit: 500, sort: 'name' })).items.map((i) => `${i.className}/${i.fileName}:${i.split}`).sort();
    expect(await splitsOf(one.result!.dataset.id)).toEqual(await splitsOf(two.result!.dataset.id));
    expect(one.result!.dataset.splits).toEqual({ train: 20, val: 10, test: 10 });
  });

  it('fails clearly when nothing can be imported or a path is invalid', async () => {
    const empty = path.join(tmp.dir, 'nothing', 'k');
    fs.mkdirSync(empty, { recursive: true });
    fs.writeFileSync(path.join(empty, 'a.jpg'), '');
    const done = await importAndWait(studio, { paths: [path.dirname(empty)] });
    expect(done.result).toBeNull();
    expect(done.error!.message).toMatch(/Nothing could be imported/);
    expect(done.error!.skipped).toEqual([{ path: path.join(empty, 'a.jpg'), reason: 'empty file (0 bytes)' }]);
    expect((await studio.call('datasets.list')).some((d) => d.name === 'nothing')).toBe(false);
    await expect(studio.call('datasets.import', { paths: ['relative/dir'] })).rejects.toThrow(/not an absolute path/);
    await expect(studio.call('datasets.import', { paths: [path.join(tmp.dir, 'nope')] })).rejects.toThrow(/not found/);
  });
});

describe('an image whose header is fine but whose data is garbage', () => {
  let root: string;
  let brokenPath: string;
  let datasetId: number;

  beforeAll(async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'lazy'), { classes: { a: 4, b: 4 }, seed: 11 });
    root = f.root;
    brokenPath = path.join(root, 'a', 'garbage-body.png');
    fs.writeFileSync(brokenPath, garbageBodyPng());
    const done = await importAndWait(studio, { paths: [root] });
    datasetId = done.result!.dataset.id;
  });

  const brokenImage = async () => {
    const { items } = await studio.call('images.list', { datasetId, status: 'all', search: 'garbage-body', limit: 10 });
    expect(items).toHaveLength(1);
    return studio.call('images.get', { id: items[0]!.id });
  };

  it('passes the import (its header and structure are checked, not its pixels)', async () => {
    const detail = await studio.call('datasets.get', { id: datasetId });
    expect(detail.images).toBe(9);
    expect(detail.skipped).toBe(0);
    const image = await brokenImage();
    expect([image.status, image.width, image.height, image.format]).toEqual(['ok', 32, 32, 'png']);
  });

  it('is reported broken, with the reason, when its thumbnail is made, and leaves the usable images', async () => {
    const image = await brokenImage();
    const answer = await studio.resolveMedia(new URL(`http://x/media/thumb/${image.id}`));
    expect(answer?.status).toBe(415);
    expect(answer && 'message' in answer ? answer.message : '').toMatch(/^Cannot show .*garbage-body\.png: corrupt PNG: the image data does not decode: .+ \(found when making its thumbnail\)$/);

    expect((await brokenImage()).status).toBe('missing');
    const skipped = await studio.call('datasets.skipped', { id: datasetId });
    expect(skipped).toEqual([{ path: brokenPath, kind: 'corrupt', reason: expect.stringMatching(/^corrupt PNG: the image data does not decode: /) }]);
    const detail = await studio.call('datasets.get', { id: datasetId });
    expect([detail.images, detail.skipped, detail.missing]).toEqual([8, 1, 1]);
    const usable = await studio.call('images.list', { datasetId, limit: 100 });
    expect(usable.items.map((i) => i.fileName)).not.toContain('garbage-body.png');
    // Asked again, it answers from the library without decoding.
    const again = await studio.resolveMedia(new URL(`http://x/media/thumb/${image.id}`));
    expect(again?.status).toBe(415);
  });

  it('stays reported after a re-import while the file is unchanged, and is read again once it changes', async () => {
    const again = await importAndWait(studio, { paths: [root] });
    expect(again.progress.at(-1)!.hashed).toBe(0);
    expect(again.result!.dataset.images).toBe(8);
    expect(again.result!.skipped).toEqual([{ path: brokenPath, reason: expect.stringMatching(/^corrupt PNG: the image data does not decode/) }]);
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#208040' } }).png().toFile(brokenPath);
    const fixed = await importAndWait(studio, { paths: [root] });
    expect(fixed.progress.at(-1)!.hashed).toBe(1);
    expect(fixed.result!.skipped).toEqual([]);
    expect(fixed.result!.dataset.images).toBe(9);
    expect((await brokenImage()).status).toBe('ok');
  });

  it('is left out of the training cache with the reason, which the library can record', async () => {
    const dir = path.join(tmp.dir, 'lazy-pack');
    fs.mkdirSync(dir, { recursive: true });
    const bad = path.join(dir, 'garbage-body.png');
    fs.writeFileSync(bad, garbageBodyPng());
    const f = await makeImageFolder(path.join(dir, 'set'), { classes: { p: 3, q: 3 }, seed: 12 });
    fs.copyFileSync(bad, path.join(f.root, 'p', 'garbage-body.png'));
    const done = await importAndWait(studio, { paths: [f.root] });
    const id = done.result!.dataset.id;
    const { items } = await studio.call('images.list', { datasetId: id, limit: 100 });
    expect(items).toHaveLength(7);
    const details = await Promise.all(items.map((i) => studio.call('images.get', { id: i.id })));
    const result = await packImages({ items: details.map((d, i) => ({ id: d.id, path: d.path, label: i % 2 })), packSize: 8, outFile: path.join(dir, 'cache.pack') });
    const brokenId = details.find((d) => d.fileName === 'garbage-body.png')!.id;
    expect(result.count).toBe(6);
    expect(result.errors).toEqual([{ id: brokenId, path: path.join(f.root, 'p', 'garbage-body.png'), message: expect.stringMatching(/^the image data does not decode: /) }]);
    expect(result.undecodable).toEqual(result.errors);
    expect(recordUndecodable(studio.library.db, brokenId, result.undecodable[0]!.message, 'training cache')).toBe(true);
    expect((await studio.call('images.get', { id: brokenId })).status).toBe('missing');
    const skipped = await studio.call('datasets.skipped', { id });
    expect(skipped[0]!.reason).toMatch(/^corrupt PNG: the image data does not decode: .+ \(found when making its training cache\)$/);
  });
});
