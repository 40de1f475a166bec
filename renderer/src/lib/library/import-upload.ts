// Browser mode: what to import after an upload — the unpacked archive's folder, or the uploaded folder itself.
import { plural } from './format';
import type { Uploader } from '../upload.svelte';
import { isZip, type UploadItem } from '../uploads';

/** A folder on the server to import, and the dataset name when the folder's own would say nothing. */
export interface ImportTarget {
  path: string;
  name?: string;
}

/**
 * Uploads one .zip (unpacked by the server) or a folder's files, and answers the server folder to import:
 * the archive's (or upload's) one top folder when there is one — its name becomes the dataset's — else the
 * upload's folder, named "Uploaded images". Null when nothing usable arrived (the uploader says why).
 */
export async function importUpload(upload: Uploader, items: UploadItem[]): Promise<ImportTarget | null> {
  if (items.length === 1 && isZip(items[0]!.file)) {
    const unpacked = await upload.zip(items[0]!.file);
    return unpacked ? { path: unpacked.root } : null;
  }
  const sent = await upload.files(items, plural(items.length, 'file'));
  if (!sent) {
    return null;
  }
  const tops = new Set(sent.items.map((i) => i.relativePath.split('/')[0]));
  const [top] = tops;
  if (tops.size === 1 && top && sent.items.every((i) => i.relativePath.includes('/'))) {
    // The server path ends with the relative path (one separator per "/"): cut it back to its first folder.
    const first = sent.paths[0]!;
    const relative = sent.items[0]!.relativePath;
    return { path: first.slice(0, first.length - relative.length + top.length) };
  }
  return { path: sent.batch.dir, name: 'Uploaded images' };
}
