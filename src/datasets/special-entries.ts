import type { Stats } from 'node:fs';
import { readlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Why an entry that is neither a regular file nor a folder is left out (a named pipe would block the reader,
 * a device never ends), in words; null for a regular file or a folder. `linked` says the name is a symbolic link.
 */
export function specialEntryReason(info: Stats, file: string, linked: boolean): string | null {
  const what = info.isFIFO()
    ? 'named pipe (FIFO)'
    : info.isSocket()
      ? 'socket'
      : info.isCharacterDevice() || info.isBlockDevice()
        ? 'device'
        : info.isFile() || info.isDirectory()
          ? null
          : 'special file';
  if (what === null) {return null;}
  if (!linked) {return `${what}, not a regular file: left out`;}
  let target: string;
  try {
    target = readlinkSync(file);
  } catch {
    target = '?';
  }
  return `symbolic link to a ${what} (${target}), not a regular file: left out`;
}

/** True when the real path `real` is the folder `root` (a real path too) or inside it. */
export function isInside(real: string, root: string): boolean {
  return real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}
