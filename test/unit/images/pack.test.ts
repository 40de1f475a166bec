import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPack, readPackHeader, type Pack } from '../../../src/images/open-pack.js';
import { packImages, packSizeFor, type PackItem } from '../../../src/images/pack-images.js';
import { removeStalePartials } from '../../../src/images/stale-partials.js';
import { imageFolder, tempDir } from './fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let files: Record<string, string>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  files = await imageFolder(dir);
});
afterAll(() => cleanup());

function pixel(pack: Pack, id: number, y: number, x: number): number[] {
  const record = pack.read(pack.indexOf(id));
  const p = (y * pack.packSize + x) * 3;
  return Array.from(record.subarray(p, p + 3));
}

describe('packSizeFor', () => {
  it('follows the paper (256 for 224) and scales small inputs', () => {
    expect(packSizeFor(224)).toBe(256);
    expect(packSizeFor(227)).toBe(260);
    expect(packSizeFor(32)).toBe(36);
    expect(packSizeFor(64)).toBe(72);
    expect(packSizeFor(2)).toBe(4);
    expect(packSizeFor(1)).toBe(1);
    expect(() => packSizeFor(0)).toThrow();
  });
});

describe('packImages', () => {
  it('packs decoded, oriented, flattened RGB records and lists failures', async () => {
    const names = ['red', 'blue', 'gradient', 'alpha', 'grey', 'exif', 'corrupt', 'empty', 'missing'];
    const items: PackItem[] = names.map((name, i) => ({ id: 100 + i, path: files[name]!, label: i % 3 }));
    const outFile = join(dir, 'cache', 'mixed-8.pack');
    const progress: number[] = [];
    const result = await packImages({ items, packSize: 8, outFile, onProgress: (p) => progress.push(p.done), meta: { snapshot: 'abc' } });

    expect(result.count).toBe(6);
    expect(result.errors.map((e) => e.id)).toEqual([106, 107, 108]);
    expect(result.errors.every((e) => e.message.length > 0)).toBe(true);
    expect(progress.at(-1)).toBe(9);
    expect(await readdir(join(dir, 'cache'))).toEqual(['mixed-8.pack']);

    const pack = openPack(outFile);
    try {
      expect(pack.packSize).toBe(8);
      expect(Array.from(pack.ids)).toEqual([100, 101, 102, 103, 104, 105]);
      expect(Array.from(pack.labels)).toEqual([0, 1, 2, 0, 1, 2]);
      expect(pack.header.meta).toEqual({ snapshot: 'abc' });
      expect(pack.header.errors).toHaveLength(3);
      expect(pixel(pack, 100, 0, 0)).toEqual([255, 0, 0]);
      expect(pixel(pack, 100, 7, 7)).toEqual([255, 0, 0]);
      expect(pixel(pack, 101, 4, 4)).toEqual([0, 0, 255]);
      // Gradient 64×16 → 32×8 → centre 8 columns are the middle of the ramp, increasing left to right.
      const row = Array.from({ length: 8 }, (_, x) => pixel(pack, 102, 4, x)[0]!);
      expect(row).toEqual([...row].sort((a, b) => a - b));
      expect(row[0]).toBeGreaterThan(80);
      expect(row[7]).toBeLessThan(175);
      expect(pixel(pack, 102, 4, 3)).toEqual(Array(3).fill(row[3]));
      // Transparent white lands on black.
      expect(pixel(pack, 103, 3, 3)).toEqual([0, 0, 0]);
      expect(pixel(pack, 104, 2, 5)).toEqual([90, 90, 90]);
      // EXIF orientation 6: displayed red on top, blue below (unrotated it would be red left, blue right).
      const top = pixel(pack, 105, 0, 6);
      const bottom = pixel(pack, 105, 7, 1);
      expect(top[0]).toBeGreaterThan(200);
      expect(top[2]).toBeLessThan(60);
      expect(bottom[2]).toBeGreaterThan(200);
      expect(bottom[0]).toBeLessThan(60);
    } finally {
      pack.close();
    }
  });

  it('reads records from the file on demand the same as preloaded', async () => {
    const outFile = join(dir, 'two.pack');
    await packImages({
      items: [
        { id: 1, path: files.gradient!, label: 0 },
        { id: 2, path: files.red!, label: 1 },
      ],
      packSize: 6,
      outFile,
      concurrency: 1,
    });
    const preloaded = openPack(outFile, { preload: true });
    const onDemand = openPack(outFile, { preload: false });
    try {
      for (let i = 0; i < 2; i++) {
        expect(onDemand.read(i)).toEqual(new Uint8Array(preloaded.read(i)));
      }
      const target = new Uint8Array(onDemand.recordBytes + 5);
      onDemand.read(1, target, 5);
      expect(Array.from(target.subarray(5, 8))).toEqual([255, 0, 0]);
      expect(onDemand.indexOf(42)).toBe(-1);
      expect(() => onDemand.read(2)).toThrow(RangeError);
    } finally {
      preloaded.close();
      onDemand.close();
    }
    onDemand.close();
    expect(() => onDemand.read(0)).toThrow(/closed/);
  });

  it('rejects files that are not intact packs', async () => {
    const good = await readFile(join(dir, 'two.pack'));
    const truncated = join(dir, 'truncated.pack');
    await writeFile(truncated, good.subarray(1));
    expect(() => openPack(truncated)).toThrow(/size|truncated|malformed|JSON/i);
    const junk = join(dir, 'junk.pack');
    await writeFile(junk, 'hello, this is not a pack file at all');
    expect(() => readPackHeader(junk)).toThrow(/not a ConvNet Studio pack/);
  });

  it('leaves no partial file and keeps the previous pack when aborted', async () => {
    const outFile = join(dir, 'aborted', 'a.pack');
    await packImages({ items: [{ id: 1, path: files.red!, label: 0 }], packSize: 4, outFile });
    const before = await readFile(outFile);
    const controller = new AbortController();
    const items = Array.from({ length: 30 }, (_, i) => ({ id: i, path: files.gradient!, label: 0 }));
    const run = packImages({
      items,
      packSize: 16,
      outFile,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 2) {
          controller.abort();
        }
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(await readdir(join(dir, 'aborted'))).toEqual(['a.pack']);
    expect(await readFile(outFile)).toEqual(before);
  });

  it('cleans up when packing fails part-way', async () => {
    const outFile = join(dir, 'failed', 'f.pack');
    const items = Array.from({ length: 6 }, (_, i) => ({ id: i, path: files.red!, label: 0 }));
    const run = packImages({
      items,
      packSize: 4,
      outFile,
      onProgress: (p) => {
        if (p.done === 3) {
          throw new Error('disk full');
        }
      },
    });
    await expect(run).rejects.toThrow('disk full');
    expect(await readdir(join(dir, 'failed'))).toEqual([]);
  });

  it('never leaves a half-written pack at the destination when the process is killed', async () => {
    const killDir = join(dir, 'killed');
    const script = join(dir, 'pack-child.mts');
    const source = fileURLToPath(new URL('../../../src/images/pack-images.ts', import.meta.url));
    await writeFile(
      script,
      `import { packImages } from ${JSON.stringify(source)};
const items = Array.from({ length: 400 }, (_, i) => ({ id: i, path: ${JSON.stringify(files.gradient)}, label: 0 }));
await packImages({ items, packSize: 96, outFile: ${JSON.stringify(join(killDir, 'k.pack'))},
  onProgress: (p) => { if (p.done === 1) process.stdout.write('started\\n'); } });
process.stdout.write('finished\\n');`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('started')) {
        child.kill('SIGKILL');
      }
    });
    await exited;
    expect(output).toContain('started');
    expect(output).not.toContain('finished');
    const left = await readdir(killDir);
    expect(left.filter((name) => name === 'k.pack')).toEqual([]);
    expect(left.every((name) => name.endsWith('.partial'))).toBe(true);
    // The dead process's temp file is swept; a live process's (ours) is not.
    const mine = join(killDir, `x.pack.${process.pid}-0123abcd.partial`);
    await writeFile(mine, '');
    expect(await removeStalePartials(killDir)).toEqual(left);
    expect(await readdir(killDir)).toEqual([`x.pack.${process.pid}-0123abcd.partial`]);
    expect(await removeStalePartials(join(killDir, 'nope'))).toEqual([]);
  });
});
