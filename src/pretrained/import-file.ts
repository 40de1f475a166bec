import fs from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSummary } from '../api/classify.js';
import { ApiError } from '../api/errors.js';
import { IMPORT_PREFIX, importModel } from '../classify/models-store.js';
import type { Library } from '../library/open.js';
import { convertInWorker, ImportRefused } from './convert-file.js';

/**
 * Imports a torchvision AlexNet `.pth` or an ONNX AlexNet into the library's models: converted in a worker into a
 * model folder (the layout `convnet export` writes) inside `models/.import-<pid>-…`, then imported like any exported
 * folder (checked again, one transaction). The row's source is the file (or `recordedSource`, e.g. the download's URL);
 * a refused file leaves nothing behind.
 */
export async function importWeightsFile(library: Pick<Library, 'dir' | 'db'>, file: string, name?: string, recordedSource?: string): Promise<ModelSummary> {
  const full = path.resolve(file);
  let info: fs.Stats;
  try {
    info = fs.statSync(full);
  } catch {
    throw new ApiError('not_found', `No file or folder at ${full}.`);
  }
  if (!info.isFile()) {
    throw new ApiError('bad_request', `${full} is not a regular file.`);
  }
  const root = path.join(library.dir, 'models');
  await mkdir(root, { recursive: true });
  const tmp = await mkdtemp(path.join(root, `${IMPORT_PREFIX}${process.pid}-`));
  try {
    try {
      await convertInWorker(full, tmp);
    } catch (err) {
      throw err instanceof ImportRefused ? new ApiError('bad_request', `${err.message} Nothing was imported.`) : new ApiError('unavailable', `Could not import ${full}: ${(err as Error).message}`);
    }
    return await importModel(library, tmp, name ?? path.basename(full).replace(/\.(pth|pt|onnx)$/i, ''), recordedSource ?? full);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Whether a models.import path names a file (a .pth/.onnx to convert) rather than an exported folder. */
export function isWeightsFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
