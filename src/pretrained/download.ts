import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Bytes so far and the total when the server says it. */
export interface DownloadProgress {
  received: number;
  total: number | null;
}

export interface DownloadOptions {
  /** Hex prefix the file's SHA-256 must start with (torch hub names files `name-<prefix>.pth`). */
  sha256Prefix: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Milliseconds without a byte before the connection counts as dead (default 30 s). */
  idleTimeoutMs?: number;
}

/** Why a download failed, for a message the user can act on. */
export class DownloadError extends Error {
  constructor(
    readonly kind: 'offline' | 'http' | 'checksum' | 'cancelled' | 'io',
    message: string,
  ) {
    super(message);
  }
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/** The SHA-256 prefix torch hub puts in a file name (`alexnet-owt-7be5be79.pth` → `7be5be79`), or null. */
export function sha256PrefixOf(url: string): string | null {
  const name = path.posix.basename(new URL(url).pathname);
  return /-([0-9a-f]{8,64})\.[A-Za-z0-9]+$/.exec(name)?.[1] ?? null;
}

async function hashFile(file: string, hash: Hash): Promise<number> {
  let bytes = 0;
  await pipeline(fs.createReadStream(file), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  });
  return bytes;
}

/** One GET, following up to 5 redirects; resolves with the response (status 200/206/416) or rejects with a DownloadError. */
function request(url: string, headers: Record<string, string>, signal: AbortSignal | undefined, idleMs: number, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!lib) {
      reject(new DownloadError('http', `Cannot download from ${url}: only http and https addresses are supported.`));
      return;
    }
    const req = lib.get(u, { headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        request(new URL(res.headers.location, u).href, headers, signal, idleMs, redirects - 1).then(resolve, reject);
        return;
      }
      if (status !== 200 && status !== 206 && status !== 416) {
        res.resume();
        reject(new DownloadError('http', `${u.host} answered ${status} ${res.statusCode ? (http.STATUS_CODES[status] ?? '') : ''} for ${url}.`));
        return;
      }
      resolve(res);
    });
    req.setTimeout(idleMs, () => req.destroy(Object.assign(new Error(`no answer for ${idleMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(classify(err, url, signal)));
  });
}

function classify(err: NodeJS.ErrnoException, url: string, signal?: AbortSignal): DownloadError {
  // The user's cancel, whatever shape the stream's error takes (an AbortError, or a reset socket on Node 24).
  if (err.name === 'AbortError' || signal?.aborted) {
    return new DownloadError('cancelled', 'The download was cancelled; what arrived is kept and a new download resumes from there.');
  }
  if (err instanceof DownloadError) {
    return err;
  }
  const host = new URL(url).host;
  return OFFLINE_CODES.has(err.code ?? '')
    ? new DownloadError('offline', `Could not reach ${host} (${err.code}).`)
    : new DownloadError('io', `Downloading ${url} failed: ${err.message}`);
}

/**
 * Downloads `url` to `dest` through `dest.part`: resumes a partial file with a Range request, reports progress,
 * stops on `signal` (keeping the part for a later resume), and renames the part to `dest` only when its SHA-256
 * starts with `sha256Prefix`. A mismatching file is deleted and refused. Non-blocking: streams and hashes chunk by chunk.
 */
export async function downloadVerified(url: string, dest: string, o: DownloadOptions): Promise<void> {
  const part = `${dest}.part`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const idleMs = o.idleTimeoutMs ?? 30_000;
  let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const hash = createHash('sha256');
  let res = await request(url, have > 0 ? { Range: `bytes=${have}-` } : {}, o.signal, idleMs);
  if (res.statusCode === 416) {
    // The part already holds everything the server has (or more): check it as it is.
    res.resume();
    await hashFile(part, hash);
    return finish(part, dest, hash, o.sha256Prefix, url);
  }
  if (res.statusCode === 206 && have > 0 && new RegExp(`^bytes ${have}-`).test(String(res.headers['content-range'] ?? ''))) {
    await hashFile(part, hash);
  } else {
    if (res.statusCode === 206) {
      res.resume();
      res = await request(url, {}, o.signal, idleMs); // the server answered a range we did not ask for: start over
    }
    have = 0;
    fs.writeFileSync(part, '');
  }
  const length = Number(res.headers['content-length']);
  const total = Number.isFinite(length) && length > 0 ? have + length : null;
  let received = have;
  let lastReport = 0;
  o.onProgress?.({ received, total });
  try {
    await pipeline(
      res,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          received += chunk.length;
          const now = Date.now();
          if (now - lastReport > 100) {
            lastReport = now;
            o.onProgress?.({ received, total });
          }
          yield chunk;
        }
      },
      fs.createWriteStream(part, { flags: 'a' }),
      { signal: o.signal },
    );
  } catch (err) {
    throw classify(err as NodeJS.ErrnoException, url, o.signal);
  }
  o.onProgress?.({ received, total });
  if (total !== null && received !== total) {
    throw new DownloadError('io', `The connection closed after ${received} of ${total} bytes; download again to resume.`);
  }
  return finish(part, dest, hash, o.sha256Prefix, url);
}

function finish(part: string, dest: string, hash: Hash, prefix: string, url: string): void {
  const digest = hash.digest('hex');
  if (!digest.startsWith(prefix.toLowerCase())) {
    fs.rmSync(part, { force: true });
    throw new DownloadError('checksum', `The file downloaded from ${url} has SHA-256 ${digest.slice(0, 16)}…, not ${prefix}… as its name promises; it was deleted and not used.`);
  }
  fs.renameSync(part, dest);
}
