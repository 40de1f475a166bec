import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandPaths } from '../../../src/classify/expand.js';
import { runCli } from '../../../src/cli/index.js';
import { probeImage } from '../../../src/datasets/image-probe.js';
import { scanSources } from '../../../src/datasets/scan.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { imageBytes, makeImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';
import { importAndWait } from './wait-import.js';

let tmp: { dir: string; cleanup(): void };
let studio: Studio;
const servers: net.Server[] = [];
const isRoot = process.getuid?.() === 0;

/** A listening Unix socket at `file` (closed after the tests). */
async function unixSocket(file: string): Promise<void> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(file, resolve));
}

beforeAll(() => {
  tmp = tempDir('convnet-hostile-');
  studio = openStudio({ libraryDir: path.join(tmp.dir, 'lib'), host: 'cli' });
});

afterAll(async () => {
  await studio.close();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  tmp.cleanup();
});

const reasonOf = (skipped: ReadonlyArray<{ path: string; reason: string }>, file: string): string | undefined => skipped.find((s) => s.path === file)?.reason;

/** A class-per-folder tree (a: 4, b: 4 images) with every awkward kind of entry added inside it. */
async function awkwardFolder(name: string): Promise<{ root: string; outside: string; at: (...p: string[]) => string }> {
  const f = await makeImageFolder(path.join(tmp.dir, name), { classes: { a: 4, b: 4 }, seed: 21 });
  const outside = path.join(tmp.dir, `${name}-elsewhere`);
  await makeImageFolder(outside, { classes: { far: 3 }, seed: 22 });
  const at = (...p: string[]): string => path.join(f.root, ...p);
  execFileSync('mkfifo', [at('a', 'pipe.jpg')]);
  await unixSocket(at('a', 'live.sock'));
  fs.symlinkSync('/dev/null', at('a', 'null.png'));
  fs.symlinkSync(path.join(outside, 'far'), at('a', 'elsewhere'));
  fs.symlinkSync(path.join('..', 'a'), at('b', 'twin'));
  // A link that sorts before the folder it points to: the folder is still imported by its own path and class.
  fs.symlinkSync('b', at('a0'));
  fs.symlinkSync('no-such-file.png', at('b', 'broken.png'));
  fs.mkdirSync(at('b', 'loop'));
  fs.symlinkSync(path.join('..', 'loop'), at('b', 'loop', 'again'));
  let deep = at('b', 'deep');
  for (let i = 0; i < 70; i++) {deep = path.join(deep, 'd');}
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(deep, 'bottom.png'), await imageBytes('png', 31_337));
  return { root: f.root, outside, at };
}

describe('importing a folder with pipes, sockets, device links, loops and links outside it', () => {
  it('imports the real images once and lists every odd entry as skipped with its reason', async () => {
    const { root, outside, at } = await awkwardFolder('odd');
    const done = await importAndWait(studio, { paths: [root] });
    expect(done.error).toBeNull();
    // The link to a folder outside and the second way into a/ are not followed: 4 + 4 images, nothing from elsewhere.
    expect(done.result!.dataset.classes).toEqual([
      { name: 'a', count: 4 },
      { name: 'b', count: 4 },
    ]);
    const skipped = done.result!.skipped;
    expect(reasonOf(skipped, at('a', 'pipe.jpg'))).toBe('named pipe (FIFO), not a regular file: left out');
    expect(reasonOf(skipped, at('a', 'live.sock'))).toBe('socket, not a regular file: left out');
    expect(reasonOf(skipped, at('a', 'null.png'))).toBe('symbolic link to a device (/dev/null), not a regular file: left out');
    expect(reasonOf(skipped, at('a', 'elsewhere'))).toBe(`symbolic link to a folder outside the imported folder (${fs.realpathSync(path.join(outside, 'far'))}): not followed`);
    expect(reasonOf(skipped, at('b', 'twin'))).toBe(`symbolic link to a folder imported already (${at('a')}): not followed`);
    expect(reasonOf(skipped, at('a0'))).toBe(`symbolic link to a folder imported already (${at('b')}): not followed`);
    expect(reasonOf(skipped, at('b', 'broken.png'))).toBe('broken symbolic link');
    expect(reasonOf(skipped, at('b', 'loop', 'again'))).toMatch(/^symbolic link loop: points back to a folder that contains it/);
    expect(skipped.find((s) => s.path.startsWith(at('b', 'deep')))?.reason).toBe('folder nested deeper than 64 levels');
    expect(skipped.filter((s) => s.path.startsWith(at('b', 'twin')) || s.path.startsWith(at('a', 'elsewhere')))).toHaveLength(2);
    const kinds = await studio.call('datasets.skipped', { id: done.result!.dataset.id, limit: 100 });
    expect(kinds.find((s) => s.path === at('a', 'pipe.jpg'))?.kind).toBe('special-file');
    expect(kinds.find((s) => s.path === at('a', 'elsewhere'))?.kind).toBe('link');
  });

  it('convnet import prints each odd entry with its reason', async () => {
    const { root, at } = await awkwardFolder('odd-cli');
    const io = { stdout: '', stderr: '', isTTY: false, env: {}, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
    expect(await runCli(['import', root, '--library', path.join(tmp.dir, 'cli-lib')], io)).toBe(0);
    const lines = io.stdout.split('\n');
    expect(lines[0]).toMatch(/^Imported "odd-cli" \(dataset \d+\): 8 images in 2 classes/);
    expect(lines).toContain(`  ${at('a', 'pipe.jpg')}: named pipe (FIFO), not a regular file: left out`);
    expect(lines).toContain(`  ${at('a', 'live.sock')}: socket, not a regular file: left out`);
    expect(lines).toContain(`  ${at('a', 'null.png')}: symbolic link to a device (/dev/null), not a regular file: left out`);
  });

  it('names a FIFO given directly, or listed by a CSV, as what it is (and never opens it)', async () => {
    const dir = path.join(tmp.dir, 'direct');
    fs.mkdirSync(dir);
    execFileSync('mkfifo', [path.join(dir, 'pipe.png')]);
    fs.writeFileSync(path.join(dir, 'good.png'), await imageBytes('png', 41));
    fs.writeFileSync(path.join(dir, 'labels.csv'), 'pipe.png,x\ngood.png,x\n');
    const direct = await importAndWait(studio, { paths: [path.join(dir, 'pipe.png')] });
    expect(direct.error!.skipped).toEqual([{ path: path.join(dir, 'pipe.png'), reason: 'named pipe (FIFO), not a regular file: left out' }]);
    expect(direct.error!.message).toBe('Nothing could be imported: the one file found was skipped.');
    const listed = await importAndWait(studio, { paths: [path.join(dir, 'labels.csv')] });
    expect(reasonOf(listed.result!.skipped, path.join(dir, 'pipe.png'))).toBe('labels.csv line 1: named pipe (FIFO), not a regular file: left out');
  });

  it('stops scanning past the entry cap with a message that says so', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'capped'), { classes: { a: 12, b: 12 }, seed: 28 });
    const scanned = await scanSources([f.root], { onFound: () => undefined, cancelled: () => false }, 20);
    expect(scanned.stopped).toBe(`Stopped scanning: more than 20 files and folders (the last folder read was ${path.join(f.root, 'b')}). Import a smaller folder, or its parts one at a time.`);
  });

  it('never waits on a pipe that takes a file\'s place after the scan', async () => {
    const fifo = path.join(tmp.dir, 'swapped.png');
    execFileSync('mkfifo', [fifo]);
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000).unref());
    expect(await Promise.race([probeImage(fifo, 100), timeout])).toEqual({
      ok: false,
      kind: 'special-file',
      reason: 'not a regular file any more (a pipe, socket or device took its place after the scan): left out',
    });
  });

  it.skipIf(isRoot)('lists a chmod-000 folder as unreadable (skipped when running as root: root reads it anyway)', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'locked'), { classes: { a: 3, b: 3 }, seed: 23 });
    fs.chmodSync(path.join(f.root, 'b'), 0o000);
    try {
      const done = await importAndWait(studio, { paths: [f.root] });
      expect(reasonOf(done.result!.skipped, path.join(f.root, 'b'))).toBe('folder unreadable: permission denied');
    } finally {
      fs.chmodSync(path.join(f.root, 'b'), 0o755);
    }
  });

  it('imports /proc/self in bounded time and entries, with a sensible result', async () => {
    const started = Date.now();
    const done = await importAndWait(studio, { paths: ['/proc/self'] });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(60);
    expect(done.progress.at(-1)!.seen).toBeLessThan(100_000);
    // No image in there: nothing imported, with the reasons.
    expect(done.error!.message).toMatch(/^Nothing could be imported: all \d+ files were skipped\.$/);
    expect(reasonOf(done.error!.skipped!, '/proc/self/root')).toBe('symbolic link to a folder outside the imported folder (/): not followed');
  }, 90_000);
});

describe('labels files with conflicting rows and broken quoting', () => {
  it('reports a path listed again with another label, and an unterminated quote, and reads the rows after it', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'conflict'), { classes: { x: 4 }, seed: 24 });
    const csv = path.join(f.root, 'labels.csv');
    fs.writeFileSync(csv, ['path,label', 'x/img-0000.jpg,red', 'x/img-0001.png,red', './x/img-0000.jpg,blue', 'x/img-0001.png,red', '"x/img-0003.gif,blue', 'x/more/img-0002.webp,green'].join('\n'));
    const done = await importAndWait(studio, { paths: [csv] });
    expect(done.result!.dataset.classes).toEqual([
      { name: 'green', count: 1 },
      { name: 'red', count: 2 },
    ]);
    const reasons = done.result!.skipped.map((s) => s.reason);
    expect(reasons).toContain('labels.csv line 4: ./x/img-0000.jpg is listed again with label "blue"; line 2 gave "red", which is kept');
    expect(reasons).toContain('labels.csv line 6: unterminated quote (a field opened with " is never closed); the line is not read');
    expect(reasons.join('\n')).not.toMatch(/no label/);
    expect(done.result!.skipped).toHaveLength(2);
  });
});

describe('duplicate reports', () => {
  it('call the copy in val or test the duplicate of the one in train', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'leak'), { classes: { a: { train: 3, val: 1, test: 1 }, b: { train: 3, val: 1, test: 1 } }, seed: 25 });
    const original = path.join(f.root, 'train', 'a', 'img-0000.jpg');
    const copy = path.join(f.root, 'test', 'a', 'copy.jpg');
    fs.copyFileSync(original, copy);
    const done = await importAndWait(studio, { paths: [f.root] });
    expect(done.result!.skipped).toEqual([{ path: copy, reason: `duplicate of ${original}` }]);
  });

  it('call the copy the duplicate when its name is the original name plus a suffix (Finder, Windows Explorer, -copy)', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'copies'), { classes: { a: 3, b: 3 }, seed: 27 });
    const original = path.join(f.root, 'a', 'img-0000.jpg');
    const copies = ['img-0000 copy.jpg', 'img-0000 (1).jpg', 'img-0000 - Copy.jpg', 'img-0000-copy.jpg'].map((n) => path.join(f.root, 'a', n));
    for (const copy of copies) {fs.copyFileSync(original, copy);}
    const done = await importAndWait(studio, { paths: [f.root] });
    expect(done.result!.skipped).toEqual(copies.map((copy) => ({ path: copy, reason: `duplicate of ${original}` })).sort((x, y) => (x.path < y.path ? -1 : 1)));
  });

  it('keep the content when the original is renamed away: the remaining copy is imported, not called a duplicate of a gone file', async () => {
    const f = await makeImageFolder(path.join(tmp.dir, 'moved'), { classes: { a: 3, b: 3 }, seed: 26 });
    const original = path.join(f.root, 'a', 'img-0000.jpg');
    const copy = path.join(f.root, 'a', 'zz-copy.jpg');
    fs.copyFileSync(original, copy);
    const first = await importAndWait(studio, { paths: [f.root] });
    expect(first.result!.skipped).toEqual([{ path: copy, reason: `duplicate of ${original}` }]);
    const renamed = path.join(f.root, 'a', 'zzz-renamed.jpg');
    fs.renameSync(original, renamed);
    const again = await importAndWait(studio, { paths: [f.root] });
    expect(again.result!.dataset.classes).toEqual([
      { name: 'a', count: 3 },
      { name: 'b', count: 3 },
    ]);
    expect(again.result!.skipped).toEqual([{ path: renamed, reason: `duplicate of ${copy}` }]);
  });
});

describe('classify: expanding chosen folders', () => {
  it('lists FIFOs, sockets, device links and links outside the folder as not classified, with reasons', async () => {
    const { root, outside, at } = await awkwardFolder('classify-odd');
    const { files, errors } = await expandPaths([root, at('a', 'pipe.jpg')]);
    expect(files.every((f) => f.startsWith(root + path.sep) && !f.includes(`${path.sep}twin${path.sep}`))).toBe(true);
    expect(files).toHaveLength(8);
    const reason = (file: string): string | undefined => errors.find((e) => e.path === file)?.reason;
    expect(reason(at('a', 'pipe.jpg'))).toBe('named pipe (FIFO), not a regular file: left out');
    expect(errors.filter((e) => e.path === at('a', 'pipe.jpg'))).toHaveLength(1);
    expect(reason(at('a', 'live.sock'))).toBe('socket, not a regular file: left out');
    expect(reason(at('a', 'null.png'))).toBe('symbolic link to a device (/dev/null), not a regular file: left out');
    expect(reason(at('a', 'elsewhere'))).toBe(`symbolic link to a folder outside the chosen folder (${fs.realpathSync(path.join(outside, 'far'))}): not followed`);
    expect(reason(at('b', 'twin'))).toMatch(/^symbolic link to a folder/);
    expect(reason(at('a0'))).toBe(`symbolic link to a folder walked already (${at('b')}): not followed`);
    expect(errors.find((e) => e.path === at('a', 'pipe.jpg'))?.kind).toBe('special-file');
  });

  it('walks /proc/self in bounded time', async () => {
    const started = Date.now();
    const { files, errors } = await expandPaths(['/proc/self']);
    expect((Date.now() - started) / 1000).toBeLessThan(60);
    expect(files.length + errors.length).toBeLessThan(100_000);
    expect(errors.find((e) => e.path === '/proc/self/root')?.reason).toBe('symbolic link to a folder outside the chosen folder (/): not followed');
  }, 90_000);
});
