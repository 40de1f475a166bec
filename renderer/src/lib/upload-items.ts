// Turns what a browser hands a page — a file input's FileList, or a drop of files and folders — into files with
// their paths relative to what was chosen, the shape uploads need. Hidden files (.DS_Store and the like) are left out.
import type { UploadItem } from './uploads';

/** Folders a drop may nest, at most (a guard against link cycles in what the browser exposes). */
const MAX_DEPTH = 32;

const hidden = (relativePath: string): boolean => relativePath.split('/').some((s) => s.startsWith('.') || s === '__MACOSX');

/** The files of an `<input type=file>` (with `webkitdirectory`, their paths inside the chosen folder). */
export function itemsFromInput(files: FileList | null): UploadItem[] {
  return Array.from(files ?? [])
    .map((file) => ({ file, relativePath: file.webkitRelativePath || file.name }))
    .filter((item) => !hidden(item.relativePath));
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, depth: number, out: UploadItem[]): Promise<void> {
  const relativePath = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (hidden(entry.name)) {
    return;
  }
  if (entry.isFile) {
    out.push({ file: await fileOf(entry as FileSystemFileEntry), relativePath });
  } else if (entry.isDirectory && depth < MAX_DEPTH) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries answers in pages (100 in Chromium) until it answers with none.
    for (let page = await readEntries(reader); page.length > 0; page = await readEntries(reader)) {
      for (const child of page) {
        await walk(child, relativePath, depth + 1, out);
      }
    }
  }
}

/**
 * Reads a drop: files, and folders walked through `webkitGetAsEntry` (each file keeps its path inside the
 * dropped folder). The entries are taken synchronously, while the event lasts; reading them is asynchronous.
 */
export function itemsFromDrop(event: DragEvent): Promise<UploadItem[]> {
  const transfer = event.dataTransfer;
  if (!transfer) {
    return Promise.resolve([]);
  }
  const taken: Array<FileSystemEntry | File> = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== 'file') {
      continue;
    }
    const entry = item.webkitGetAsEntry?.() ?? null;
    const file = entry ? null : item.getAsFile();
    if (entry) {
      taken.push(entry);
    } else if (file) {
      taken.push(file);
    }
  }
  if (taken.length === 0) {
    taken.push(...Array.from(transfer.files));
  }
  return (async () => {
    const out: UploadItem[] = [];
    for (const thing of taken) {
      if (thing instanceof File) {
        if (!hidden(thing.name)) {
          out.push({ file: thing, relativePath: thing.name });
        }
      } else {
        await walk(thing, '', 0, out);
      }
    }
    return out;
  })();
}
