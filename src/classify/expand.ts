import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ClassifyError } from '../api/classify.js';
import { describeReadError, IMAGE_EXTENSIONS } from '../datasets/probe.js';

/** Names a folder walk passes over, as the importer does. */
const IGNORED_NAMES = new Set(['thumbs.db', 'desktop.ini', '__macosx']);
const MAX_DEPTH = 64;

/**
 * Turns the paths a user chose into the files to classify, in a stable order: a file is taken whatever its
 * extension (its content decides); a folder is walked (sorted, hidden files skipped), taking image files and
 * listing other files as errors. Paths that do not exist or cannot be read are errors too.
 */
export async function expandPaths(paths: readonly string[]): Promise<{ files: string[]; errors: ClassifyError[] }> {
  const files: string[] = [];
  const errors: ClassifyError[] = [];
  const seen = new Set<string>();
  const add = (file: string): void => {
    if (!seen.has(file)) {
      seen.add(file);
      files.push(file);
    }
  };
  const visited = new Set<string>();
  const walk = async (dir: string, depth: number): Promise<void> => {
    const real = await realpath(dir).catch(() => dir);
    if (visited.has(real)) {
      errors.push({ path: dir, kind: 'symlink-loop', reason: 'folder already walked (a symbolic link points back to it)' });
      return;
    }
    visited.add(real);
    if (depth > MAX_DEPTH) {
      errors.push({ path: dir, kind: 'unreadable', reason: `folder nested deeper than ${MAX_DEPTH} levels` });
      return;
    }
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const why = describeReadError(err);
      errors.push({ path: dir, kind: why.kind, reason: `folder ${why.reason}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || IGNORED_NAMES.has(entry.name.toLowerCase())) {
        continue;
      }
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const info = await stat(full);
          isDir = info.isDirectory();
          isFile = info.isFile();
        } catch (err) {
          const why = describeReadError(err);
          errors.push({ path: full, kind: why.kind, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'broken symbolic link' : why.reason });
          continue;
        }
      }
      if (isDir) {
        await walk(full, depth + 1);
      } else if (isFile && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        add(full);
      } else if (isFile) {
        errors.push({ path: full, kind: 'not-image', reason: `not an image file (${path.extname(entry.name) || 'no extension'})` });
      }
    }
  };
  for (const given of paths) {
    if (!path.isAbsolute(given)) {
      errors.push({ path: given, kind: 'bad-name', reason: 'not an absolute path' });
      continue;
    }
    try {
      const info = await stat(given);
      if (info.isDirectory()) {
        await walk(given, 0);
      } else {
        add(given);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? { kind: 'unreadable' as const, reason: 'unreadable: no such file or folder' } : describeReadError(err);
      errors.push({ path: given, kind: why.kind, reason: why.reason });
    }
  }
  return { files, errors };
}
