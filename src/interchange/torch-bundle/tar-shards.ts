import fs from 'node:fs';
import path from 'node:path';

/** One file to pack: where it is read from and the name it gets inside the archive. */
export interface ShardEntry {
  source: string;
  name: string;
}

function header(name: string, size: number, type: '0' | 'x'): Buffer {
  const h = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => {
    h.write(value, offset, length, 'utf8');
  };
  const octal = (offset: number, length: number, value: number): void => field(offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h.fill(' ', 148, 156);
  field(156, 1, type);
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const b of h) {
    sum += b;
  }
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

const pad = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

/** A tar entry's bytes; names that do not fit ustar's 100 ASCII bytes get a pax `path` record first. */
function entry(name: string, data: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  if (Buffer.byteLength(name) > 99 || !/^[\x20-\x7e]*$/.test(name)) {
    const body = ` path=${name}\n`;
    const base = Buffer.byteLength(body);
    let len = base + 1;
    while (String(len).length + base !== len) {
      len = String(len).length + base; // the length counts its own digits
    }
    const record = `${len}${body}`;
    const pax = Buffer.from(record);
    parts.push(header('PaxHeader', pax.length, 'x'), pax, pad(pax.length));
    name = `file-${Buffer.byteLength(name)}`;
  }
  parts.push(header(name, data.length, '0'), data, pad(data.length));
  return parts;
}

/**
 * Packs files into tar shards of at most `perShard` files each (`images-00000.tar`, …) in `dir`.
 * Returns the shard names. Files are read one at a time, so memory stays at one image.
 */
export async function writeTarShards(dir: string, entries: ShardEntry[], perShard: number, onProgress?: (done: number, total: number) => void): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let s = 0; s * perShard < entries.length; s++) {
    const name = `images-${String(s).padStart(5, '0')}.tar`;
    const fd = fs.openSync(path.join(dir, name), 'w');
    try {
      for (const e of entries.slice(s * perShard, (s + 1) * perShard)) {
        for (const b of entry(e.name, await fs.promises.readFile(e.source))) {
          fs.writeSync(fd, b);
        }
      }
      fs.writeSync(fd, Buffer.alloc(1024));
    } finally {
      fs.closeSync(fd);
    }
    names.push(name);
    onProgress?.(Math.min(entries.length, (s + 1) * perShard), entries.length);
  }
  return names;
}
