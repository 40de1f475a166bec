// Browser mode sends files to the server it talks to: a batch folder inside the library's uploads/, one PUT per
// file (or one per zip archive), each streamed and checked there. The answers name server paths, which then go
// to classify.files or datasets.import exactly as typed paths would.

/** Limits the server applies (it refuses past them with 413; the UI checks first to spare the transfer). */
export interface UploadLimits {
  fileBytes: number;
  archiveBytes: number;
  batchBytes: number;
}

/** A batch folder on the server that uploads go into. */
export interface UploadBatch {
  id: string;
  /** Its absolute path on the server. */
  dir: string;
  limits: UploadLimits;
}

/** A file chosen or dropped in the browser, with its path relative to what was chosen (`garden/roses/a.jpg`). */
export interface UploadItem {
  file: File;
  relativePath: string;
}

/** A refusal by the server (or the check before sending), with its message. */
export class UploadRefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The token this page was opened with (the HttpOnly cookie carries it too; the header spares a cookie-less case). */
function authHeaders(): Record<string, string> {
  const token = sessionStorage.getItem('convnet.token');
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Sends one request with upload progress; resolves with the server's `result` or rejects with its message. */
function send<T>(method: 'POST' | 'PUT', url: string, body: Blob | null, onprogress?: (sent: number) => void, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [key, value] of Object.entries(authHeaders())) {
      xhr.setRequestHeader(key, value);
    }
    xhr.responseType = 'text';
    if (onprogress) {
      xhr.upload.onprogress = (e) => onprogress(e.loaded);
    }
    xhr.onload = () => {
      let reply: { ok?: boolean; result?: T; error?: { message?: string } } | null = null;
      try {
        reply = JSON.parse(xhr.responseText);
      } catch {
        reply = null;
      }
      if (xhr.status === 200 && reply?.ok) {
        resolve(reply.result as T);
      } else {
        reject(new UploadRefusedError(xhr.status, reply?.error?.message ?? (xhr.responseText.trim() || `The server answered ${xhr.status}.`)));
      }
    };
    xhr.onerror = () => reject(new Error('The upload failed: the connection to the server was lost.'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** Opens a fresh batch folder on the server. */
export function openBatch(): Promise<UploadBatch> {
  return send<UploadBatch>('POST', '/upload/batch', null);
}

/** Uploads one file into the batch under its relative path; resolves with its path on the server. */
export async function uploadFile(batch: UploadBatch, item: UploadItem, onprogress: (sent: number) => void, signal?: AbortSignal): Promise<string> {
  const url = `/upload/${encodeURIComponent(batch.id)}/file?name=${encodeURIComponent(item.relativePath)}`;
  return (await send<{ path: string }>('PUT', url, item.file, onprogress, signal)).path;
}

/** Uploads a zip archive, which the server unpacks into the batch; resolves with the folder to import. */
export async function uploadZip(batch: UploadBatch, file: File, onprogress: (sent: number) => void, signal?: AbortSignal): Promise<{ dir: string; root: string; files: number }> {
  const url = `/upload/${encodeURIComponent(batch.id)}/zip?name=${encodeURIComponent(file.name)}`;
  return send('PUT', url, file, onprogress, signal);
}

/** True for a zip archive by name or type. */
export function isZip(file: File): boolean {
  return /\.zip$/i.test(file.name) || file.type === 'application/zip' || file.type === 'application/x-zip-compressed';
}
