import fs from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

// O_NOFOLLOW: a symbolic link is refused by open itself (ELOOP), so one swapped in after the check is never read
// through. O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (on regular files it does
// nothing). Neither exists on Windows, where a FIFO cannot sit in a folder and lstat already reports links.
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

/** Why a path cannot be read as a file of a model folder, in words that follow "X is". */
export class NotRegularFile extends Error {}

function kindOf(st: fs.Stats): string | null {
  if (st.isFile()) {
    return null;
  }
  if (st.isSymbolicLink()) {
    return 'a symbolic link';
  }
  if (st.isFIFO()) {
    return 'a named pipe (FIFO)';
  }
  if (st.isDirectory()) {
    return 'a folder';
  }
  if (st.isSocket()) {
    return 'a socket';
  }
  return 'a device';
}

/**
 * What sits at `file` without opening or following it: 'missing', 'regular' with its size, or a NotRegularFile
 * saying what it is instead (a link, a FIFO, a folder, a socket, a device).
 */
export function lstatFile(file: string): { kind: 'missing' } | { kind: 'regular'; size: number } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { kind: 'missing' };
    }
    throw new NotRegularFile(`unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const other = kindOf(st);
  if (other) {
    throw new NotRegularFile(`${other}, not a regular file`);
  }
  return { kind: 'regular', size: st.size };
}

function openError(err: unknown): NotRegularFile {
  const code = (err as NodeJS.ErrnoException).code;
  return new NotRegularFile(code === 'ELOOP' ? 'a symbolic link, not a regular file' : `unreadable (${code ?? (err as Error).message})`);
}

/**
 * Reads a regular file of at most `maxBytes` (exactly `maxBytes` when `exact`), never blocking on a FIFO nor
 * following a link: the opened descriptor is what is checked, so a swap after an earlier lstat changes nothing.
 */
export function readRegularFileSync(file: string, maxBytes: number, exact = false): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, READ_FLAGS);
  } catch (err) {
    throw openError(err);
  }
  try {
    const st = fs.fstatSync(fd);
    const other = kindOf(st);
    if (other) {
      throw new NotRegularFile(`${other}, not a regular file`);
    }
    if (exact ? st.size !== maxBytes : st.size > maxBytes) {
      throw new NotRegularFile(exact ? `${st.size} bytes; ${maxBytes} expected` : `${st.size} bytes, more than the ${maxBytes} allowed`);
    }
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = fs.readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) {
        throw new NotRegularFile(`shorter than it was a moment ago (${at} of ${buf.length} bytes)`);
      }
      at += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Copies a regular file of exactly `size` bytes to `dest` (created, never overwritten) without blocking the event
 * loop, on a FIFO, or following a link; refuses a file that is not `size` bytes before or after the copy.
 */
export async function copyRegularFile(file: string, dest: string, size: number): Promise<void> {
  let handle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (err) {
    throw openError(err);
  }
  try {
    const st = await handle.stat();
    const other = kindOf(st);
    if (other) {
      throw new NotRegularFile(`${other}, not a regular file`);
    }
    if (st.size !== size) {
      throw new NotRegularFile(`${st.size} bytes now, ${size} when it was checked`);
    }
    await pipeline(handle.createReadStream({ autoClose: false }), fs.createWriteStream(dest, { flags: 'wx' }));
    const copied = fs.statSync(dest).size;
    if (copied !== size) {
      throw new NotRegularFile(`changed while it was copied (${copied} of ${size} bytes)`);
    }
  } finally {
    await handle.close();
  }
}
