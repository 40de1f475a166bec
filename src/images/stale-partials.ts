import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

// Temp files of packImages and makeThumbnail end in `.<pid>-<8 hex>.partial`.
const PARTIAL = /\.(\d+)-[0-9a-f]{8}\.partial$/;

/** Deletes `.partial` files in dir left by processes that no longer run (a killed pack or thumbnail); returns their names. */
export async function removeStalePartials(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return [];
    }
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(PARTIAL.exec(name)?.[1]);
    if (Number.isInteger(pid) && !isRunning(pid)) {
      await unlink(join(dir, name)).catch(() => undefined);
      removed.push(name);
    }
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
