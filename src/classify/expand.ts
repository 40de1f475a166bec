import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ClassifyError } from '../api/classify.js';
import { describeReadError, IMAGE_EXTENSIONS } from '../datasets/image-probe.js';
import { MAX_ENTRIES } from '../datasets/scan.js';
import { isInside, specialEntryReason } from '../datasets/special-entries.js';

/** Names a folder walk passes over, as the importer does. */
const IGNORED_NAMES = new Set(['thumbs.db', 'desktop.ini', '__macosx']);
const MAX_DEPTH = 64;

/**
 * Turns the paths a user chose into the files to classify, in a stable order: a file is taken whatever its
 * extension (its content decides); a folder is walked (sorted, hidden files skipped), taking image files and
 * listing other files as errors. Paths that do not exist or cannot be read are errors too, and so are pipes,
 * sockets and devices (never opened), links to folders outside the chosen folder or walked already (not
 * followed). At most MAX_ENTRIES entries are listed.
 */
export async function expandPaths(paths: readonly string[], maxEntries = MAX_ENTRIES): Promise<{ files: string[]; errors: ClassifyError[] }> {
  const files: string[] = [];
  const errors: ClassifyError[] = [];
  const seen = new Set<string>();
  const add = (file: string): void => {
    if (!seen.has(file)) {
      seen.add(file);
      files.push(file);
    }
  };
  const failed = new Set<string>();
  const fail = (error: ClassifyError): void => {
    if (!failed.has(error.path)) {
      failed.add(error.path);
      errors.push(error);
    }
  };
  /** Real path of each folder walked → the path it was walked by. */
  const visited = new Map<string, string>();
  let listed = 0;
  let stopped = false;
  let root = '';
  const deferred: Array<() => Promise<void>> = [];
  const walk = async (dir: string, real: string, depth: number): Promise<void> => {
    visited.set(real, dir);
    if (depth > MAX_DEPTH) {
      fail({ path: dir, kind: 'unreadable', reason: `folder nested deeper than ${MAX_DEPTH} levels` });
      return;
    }
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const why = describeReadError(err);
      fail({ path: dir, kind: why.kind, reason: `folder ${why.reason}` });
      return;
    }
    listed += entries.length;
    if (listed > maxEntries) {
      stopped = true;
      fail({ path: dir, kind: 'unreadable', reason: `stopped here: more than ${maxEntries.toLocaleString('en-US')} files and folders; choose a smaller folder` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (stopped) {return;}
      if (entry.name.startsWith('.') || IGNORED_NAMES.has(entry.name.toLowerCase())) {
        continue;
      }
      const full = path.join(dir, entry.name);
      const linked = entry.isSymbolicLink();
      let info: Stats;
      try {
        info = await stat(full);
      } catch (err) {
        const why = describeReadError(err);
        fail({ path: full, kind: why.kind, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'broken symbolic link' : why.reason });
        continue;
      }
      if (info.isDirectory()) {
        const target = linked ? await realpath(full).catch(() => null) : path.join(real, entry.name);
        if (target === null) {
          fail({ path: full, kind: 'unreadable', reason: 'unreadable: the link cannot be resolved' });
        } else if (visited.has(target)) {
          fail(
            isInside(real, target)
              ? { path: full, kind: 'symlink-loop', reason: 'symbolic link loop: points back to a folder that contains it' }
              : { path: full, kind: 'link', reason: `symbolic link to a folder walked already (${visited.get(target)!}): not followed` },
          );
        } else if (linked && !isInside(target, root)) {
          fail({ path: full, kind: 'link', reason: `symbolic link to a folder outside the chosen folder (${target}): not followed` });
        } else if (linked) {
          // Followed after the rest, so that a folder reached both ways is listed by its own path.
          deferred.push(async () => {
            if (visited.has(target)) {
              fail({ path: full, kind: 'link', reason: `symbolic link to a folder walked already (${visited.get(target)!}): not followed` });
            } else {
              await walk(full, target, depth + 1);
            }
          });
        } else {
          await walk(full, target, depth + 1);
        }
      } else if (!info.isFile()) {
        fail({ path: full, kind: 'special-file', reason: specialEntryReason(info, full, linked)! });
      } else if (IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        add(full);
      } else {
        fail({ path: full, kind: 'not-image', reason: `not an image file (${path.extname(entry.name) || 'no extension'})` });
      }
    }
  };
  for (const given of paths) {
    if (!path.isAbsolute(given)) {
      fail({ path: given, kind: 'bad-name', reason: 'not an absolute path' });
      continue;
    }
    try {
      const info = await stat(given);
      const special = specialEntryReason(info, given, (await lstat(given)).isSymbolicLink());
      if (special) {
        fail({ path: given, kind: 'special-file', reason: special });
      } else if (info.isDirectory()) {
        root = await realpath(given);
        if (visited.has(root)) {continue;}
        stopped = false;
        await walk(given, root, 0);
        while (deferred.length > 0) {
          await deferred.shift()!();
        }
      } else {
        add(given);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? { kind: 'unreadable' as const, reason: 'unreadable: no such file or folder' } : describeReadError(err);
      fail({ path: given, kind: why.kind, reason: why.reason });
    }
  }
  return { files, errors };
}
