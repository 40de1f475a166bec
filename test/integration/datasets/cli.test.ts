import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { makeImageFolder, type ImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';

let tmp: { dir: string; cleanup(): void };
let folder: ImageFolder;
let library: string;

function captureIO(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    isTTY: false,
    env: {},
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
  };
  return io;
}

beforeAll(async () => {
  tmp = tempDir('convnet-cli-import-');
  folder = await makeImageFolder(path.join(tmp.dir, 'birds'), { classes: { owl: 10, wren: 10 }, bad: ['empty', 'duplicate'] });
  library = path.join(tmp.dir, 'lib');
});

afterAll(() => tmp.cleanup());

describe('convnet import / datasets', () => {
  it('import --json prints exactly {dataset:{id,name,images,classes,splits},skipped:[{path,reason}]} and exits 0 with skipped files', async () => {
    const io = captureIO();
    const code = await runCli(['import', folder.root, '--library', library, '--name', 'Birds', '--split', '70/20/10', '--seed', '3', '--json'], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(io.stdout);
    expect(Object.keys(out)).toEqual(['dataset', 'skipped']);
    expect(Object.keys(out.dataset)).toEqual(['id', 'name', 'images', 'classes', 'splits']);
    expect(out.dataset).toEqual({
      id: 1,
      name: 'Birds',
      images: 20,
      classes: [
        { name: 'owl', count: 10 },
        { name: 'wren', count: 10 },
      ],
      splits: { train: 14, val: 4, test: 2 },
    });
    expect(out.skipped).toEqual([
      { path: folder.bad.empty, reason: 'empty file (0 bytes)' },
      { path: folder.bad.duplicate, reason: `duplicate of ${path.join(folder.root, 'owl', 'img-0000.jpg')}` },
    ]);
  });

  it('prints a summary for people, and the datasets table', async () => {
    const io = captureIO();
    expect(await runCli(['import', folder.root, '--library', library], io)).toBe(0);
    expect(io.stdout).toMatch(/Imported "Birds" \(dataset 1\): 20 images in 2 classes — train 14, val 4, test 2/);
    expect(io.stdout).toMatch(/Skipped 2 files:/);
    const list = captureIO();
    expect(await runCli(['datasets', '--library', library], list)).toBe(0);
    expect(list.stdout).toMatch(/^\s*id\s+name\s+images\s+classes/);
    expect(list.stdout).toMatch(/1\s+Birds\s+20\s+2\s+14\/4\/2\s+10–10/);
    const json = captureIO();
    expect(await runCli(['datasets', '--library', library, '--json'], json)).toBe(0);
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ id: 1, name: 'Birds', images: 20, classes: 2 });
  });

  it('exits non-zero with a clear message when nothing can be imported or the paths are invalid', async () => {
    const junk = path.join(tmp.dir, 'junk', 'k');
    fs.mkdirSync(junk, { recursive: true });
    fs.writeFileSync(path.join(junk, 'x.png'), 'not a png');
    const nothing = captureIO();
    expect(await runCli(['import', path.dirname(junk), '--library', library], nothing)).toBe(1);
    expect(nothing.stderr).toMatch(/Nothing could be imported: the one file found was skipped\./);
    expect(nothing.stderr).toMatch(/x\.png: not an image/);
    const missing = captureIO();
    expect(await runCli(['import', path.join(tmp.dir, 'no-such-folder'), '--library', library], missing)).toBe(1);
    expect(missing.stderr).toMatch(/Cannot import: not found: .*no-such-folder/);
    const badSplit = captureIO();
    expect(await runCli(['import', folder.root, '--split', '80/30/10', '--library', library], badSplit)).toBe(2);
    expect(badSplit.stderr).toMatch(/--split must be three numbers adding up to 100/);
  });
});
