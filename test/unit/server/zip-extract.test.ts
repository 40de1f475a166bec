// The zip reader behind browser-mode uploads, on real archive files: the entry-count cap, damaged entries
// (checksum) and duplicate names are refused with a message, and a refused archive leaves nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractZip, ZipRefusedError } from '../../../src/server/zip-extract.js';
import { tempDir } from '../../helpers/temp.js';

let t: { dir: string; cleanup(): void };
beforeEach(() => (t = tempDir('convnet-zip-')));
afterEach(() => t.cleanup());

const LIMITS = { totalBytes: 1024 * 1024, entries: 4 };

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(t.dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

async function refusal(zip: string): Promise<ZipRefusedError> {
  const err = await extractZip(zip, path.join(t.dir, 'out'), LIMITS).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ZipRefusedError);
  expect(fs.readdirSync(t.dir).sort()).toEqual([path.basename(zip)]);
  return err as ZipRefusedError;
}

describe('extractZip', () => {
  it('unpacks files and folders, leaving out macOS litter', async () => {
    const zip = write('a.zip', zipSync({ 'cats/a.txt': new TextEncoder().encode('meow'), 'dogs/': new Uint8Array(0), '__MACOSX/cats/._a.txt': new Uint8Array([1]), 'cats/.DS_Store': new Uint8Array([2]) }));
    expect(await extractZip(zip, path.join(t.dir, 'out'), LIMITS)).toEqual({ files: 1, bytes: 4 });
    expect(fs.readFileSync(path.join(t.dir, 'out', 'cats', 'a.txt'), 'utf8')).toBe('meow');
    expect(fs.statSync(path.join(t.dir, 'out', 'dogs')).isDirectory()).toBe(true);
    expect(fs.readdirSync(path.join(t.dir, 'out')).sort()).toEqual(['cats', 'dogs']);
  });

  it('refuses more entries than the cap', async () => {
    const entries = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}.txt`, new Uint8Array([i])]));
    const err = await refusal(write('many.zip', zipSync(entries)));
    expect(err.status).toBe(413);
    expect(err.message).toBe('The archive has 5 entries; at most 4 are accepted.');
  });

  it('refuses an entry whose bytes do not match its checksum', async () => {
    const bytes = zipSync({ 'a.txt': new TextEncoder().encode('hello hello hello') }, { level: 0 });
    bytes[30 + 'a.txt'.length + 2]! ^= 0xff;
    const err = await refusal(write('bad.zip', bytes));
    expect(err.message).toContain('"a.txt" is damaged (checksum mismatch)');
  });

  it('refuses two entries with the same name (case-insensitively)', async () => {
    const err = await refusal(write('twice.zip', zipSync({ 'A.txt': new Uint8Array([1]), 'a.txt': new Uint8Array([2]) })));
    expect(err.message).toContain('twice');
  });

  it('refuses a file that is not a zip', async () => {
    const err = await refusal(write('no.zip', new TextEncoder().encode('just text')));
    expect(err.status).toBe(415);
    expect(err.message).toContain('Not a zip archive');
  });
});
