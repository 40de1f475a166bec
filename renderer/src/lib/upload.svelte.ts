// One upload as a view follows it (browser mode): files sent, bytes, what the server refused and why, cancel.
import { formatBytes } from './library/format';
import { errorMessage } from './library/types';
import { openBatch, uploadFile, UploadRefusedError, uploadZip, type UploadBatch, type UploadItem } from './uploads';

/** Files sent at once: enough to hide each request's latency, few enough to keep progress readable. */
const PARALLEL = 3;

/** A file the server (or the check before sending) refused, and why. */
export interface RefusedUpload {
  name: string;
  reason: string;
}

/** Uploads of one view, one at a time. */
export class Uploader {
  active = $state(false);
  /** What is being sent, in words ("4 images", "garden.zip"). */
  what = $state('');
  filesDone = $state(0);
  filesTotal = $state(0);
  bytesSent = $state(0);
  bytesTotal = $state(0);
  /** True once an archive has arrived and the server unpacks it. */
  unpacking = $state(false);
  refused = $state.raw<RefusedUpload[]>([]);
  /** Why the whole upload failed (server unreachable, archive refused). */
  error = $state<string | null>(null);
  #abort: AbortController | null = null;

  /** Share of bytes sent, 0–1. */
  readonly fraction = $derived(this.bytesTotal > 0 ? Math.min(1, this.bytesSent / this.bytesTotal) : 0);

  /** Sends files into a new batch; resolves with the batch and the server paths of the files it accepted (null if none or cancelled). */
  async files(items: UploadItem[], what: string): Promise<{ batch: UploadBatch; paths: string[]; items: UploadItem[] } | null> {
    const abort = this.#begin(what, items.length, items.reduce((sum, i) => sum + i.file.size, 0));
    try {
      const batch = await openBatch();
      if (this.bytesTotal > batch.limits.batchBytes) {
        // Sending part of a dataset would import it incomplete: refuse the whole upload before sending anything.
        throw new UploadRefusedError(413, `${what} come to ${formatBytes(this.bytesTotal)}; one upload holds at most ${formatBytes(batch.limits.batchBytes)}. Upload fewer files, or copy them to the server and type their path.`);
      }
      const accepted: Array<{ index: number; path: string }> = [];
      const refused: RefusedUpload[] = [];
      const sent = new Map<number, number>();
      let settled = 0;
      const queue = items.map((item, index) => ({ item, index }));
      const next = async (): Promise<void> => {
        for (let job = queue.shift(); job && !abort.signal.aborted; job = queue.shift()) {
          const { item, index } = job;
          try {
            if (item.file.size > batch.limits.fileBytes) {
              throw new UploadRefusedError(413, `${item.relativePath} is larger than ${formatBytes(batch.limits.fileBytes)}, the most accepted for one file.`);
            }
            const path = await uploadFile(batch, item, (n) => {
              sent.set(index, n);
              this.bytesSent = settled + [...sent.values()].reduce((a, b) => a + b, 0);
            }, abort.signal);
            accepted.push({ index, path });
          } catch (err) {
            if (!(err instanceof UploadRefusedError)) {
              throw err;
            }
            refused.push({ name: item.relativePath, reason: err.message });
            this.refused = [...refused];
          } finally {
            sent.delete(index);
            settled += item.file.size;
            this.bytesSent = settled + [...sent.values()].reduce((a, b) => a + b, 0);
            this.filesDone++;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, next));
      if (abort.signal.aborted || accepted.length === 0) {
        if (!abort.signal.aborted) {
          this.error = refused.length ? 'No file was accepted.' : 'Nothing to upload.';
        }
        return null;
      }
      accepted.sort((a, b) => a.index - b.index);
      return { batch, paths: accepted.map((a) => a.path), items: accepted.map((a) => items[a.index]!) };
    } catch (err) {
      this.error = abort.signal.aborted ? null : errorMessage(err);
      return null;
    } finally {
      this.#end();
    }
  }

  /** Sends a zip archive, which the server checks and unpacks; resolves with the folder to import (null on refusal or cancel). */
  async zip(file: File): Promise<{ root: string; files: number } | null> {
    const abort = this.#begin(file.name, 1, file.size);
    try {
      const batch = await openBatch();
      if (file.size > batch.limits.archiveBytes) {
        throw new UploadRefusedError(413, `${file.name} is larger than ${formatBytes(batch.limits.archiveBytes)}, the most accepted for one archive.`);
      }
      const reply = await uploadZip(batch, file, (n) => {
        this.bytesSent = n;
        this.unpacking = n >= file.size;
      }, abort.signal);
      this.filesDone = 1;
      return reply;
    } catch (err) {
      this.error = abort.signal.aborted ? null : errorMessage(err);
      return null;
    } finally {
      this.#end();
    }
  }

  /** Stops sending; files already sent stay on the server, unused. */
  cancel(): void {
    this.#abort?.abort();
  }

  /** Forgets the last upload's refusals and error. */
  clear(): void {
    this.refused = [];
    this.error = null;
  }

  #begin(what: string, files: number, bytes: number): AbortController {
    this.#abort = new AbortController();
    this.active = true;
    this.what = what;
    this.filesDone = 0;
    this.filesTotal = files;
    this.bytesSent = 0;
    this.bytesTotal = bytes;
    this.unpacking = false;
    this.refused = [];
    this.error = null;
    return this.#abort;
  }

  #end(): void {
    this.active = false;
    this.unpacking = false;
    this.#abort = null;
  }
}
