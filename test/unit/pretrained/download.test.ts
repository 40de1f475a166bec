// The pretrained-weights download against a local HTTP server (Range requests, slow streams); nothing reaches the network.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PretrainedFetch } from '../../../src/api/pretrained.js';
import { downloadVerified, DownloadError, type DownloadProgress } from '../../../src/pretrained/download.js';
import { openStudio } from '../../../src/studio.js';
import { tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

/** 3 MB of seeded bytes and the torch-hub-style name carrying their SHA-256 prefix. */
function payload(): { bytes: Buffer; name: string } {
  const bytes = Buffer.alloc(3 << 20);
  let s = 12345;
  for (let i = 0; i < bytes.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bytes[i] = s >>> 24;
  }
  return { bytes, name: `weights-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.pth` };
}

interface Served {
  url: (name: string) => string;
  ranges: Array<string | undefined>;
  sent: number;
}

/** A server with Range support; `chunkDelayMs` streams 64 KiB at a time with pauses (for cancel). */
async function serve(bytes: Buffer, chunkDelayMs = 0): Promise<Served> {
  const served: Served = { url: () => '', ranges: [], sent: 0 };
  const server = http.createServer((req, res) => {
    served.ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= bytes.length && m) {
      res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` }).end();
      return;
    }
    const body = bytes.subarray(start);
    res.writeHead(m ? 206 : 200, { 'Content-Length': body.length, ...(m ? { 'Content-Range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}) });
    let at = 0;
    const step = (): void => {
      if (res.destroyed) {
        return;
      }
      const chunk = body.subarray(at, at + 65536);
      at += chunk.length;
      served.sent += chunk.length;
      if (at >= body.length) {
        res.end(chunk);
      } else {
        res.write(chunk);
        setTimeout(step, chunkDelayMs);
      }
    };
    step();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  served.url = (name) => `http://127.0.0.1:${port}/models/${name}`;
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  cleanups.push(() => server.closeAllConnections());
  return served;
}

describe('pretrained download', () => {
  it('downloads with progress up to the total, verifies the SHA-256 prefix and leaves no .part', async () => {
    const { bytes, name } = payload();
    const server = await serve(bytes);
    const { dir, cleanup } = tempDir('dl-');
    cleanups.push(cleanup);
    const dest = path.join(dir, name);
    const seen: DownloadProgress[] = [];
    await downloadVerified(server.url(name), dest, { sha256Prefix: name.slice(8, 16), onProgress: (p) => seen.push(p) });
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
    expect(fs.existsSync(`${dest}.part`)).toBe(false);
    expect(seen.at(-1)).toEqual({ received: bytes.length, total: bytes.length });
    expect(seen.every((p, i) => i === 0 || p.received >= seen[i - 1]!.received)).toBe(true);
  });

  it('resumes a broken download with a Range request and sends only the rest', async () => {
    const { bytes, name } = payload();
    const server = await serve(bytes);
    const { dir, cleanup } = tempDir('dl-');
    cleanups.push(cleanup);
    const dest = path.join(dir, name);
    fs.writeFileSync(`${dest}.part`, bytes.subarray(0, 1 << 20));
    await downloadVerified(server.url(name), dest, { sha256Prefix: name.slice(8, 16) });
    expect(server.ranges).toEqual([`bytes=${1 << 20}-`]);
    expect(server.sent).toBe(bytes.length - (1 << 20));
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
  });

  it('refuses a file whose SHA-256 does not start with the prefix in its name, and deletes it', async () => {
    const { bytes } = payload();
    const server = await serve(bytes);
    const { dir, cleanup } = tempDir('dl-');
    cleanups.push(cleanup);
    const dest = path.join(dir, 'weights-deadbeef.pth');
    const err = await downloadVerified(server.url('weights-deadbeef.pth'), dest, { sha256Prefix: 'deadbeef' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).kind).toBe('checksum');
    expect((err as Error).message).toMatch(/not deadbeef… as its name promises; it was deleted and not used/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('stops on cancel keeping the part, and the next download resumes from it', async () => {
    const { bytes, name } = payload();
    const server = await serve(bytes, 20);
    const { dir, cleanup } = tempDir('dl-');
    cleanups.push(cleanup);
    const dest = path.join(dir, name);
    const controller = new AbortController();
    const err = await downloadVerified(server.url(name), dest, {
      sha256Prefix: name.slice(8, 16),
      signal: controller.signal,
      onProgress: (p) => p.received > 256 << 10 && controller.abort(),
    }).catch((e: unknown) => e);
    expect((err as DownloadError).kind).toBe('cancelled');
    const kept = fs.statSync(`${dest}.part`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(bytes.length);
    await downloadVerified(server.url(name), dest, { sha256Prefix: name.slice(8, 16) });
    expect(server.ranges.at(-1)).toBe(`bytes=${kept}-`);
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
  });

  it('offline: models.fetch fails with one sentence naming the URL and `convnet models import FILE`', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const url = `http://127.0.0.1:${port}/models/alexnet-owt-7be5be79.pth`;
    const { dir, cleanup } = tempDir('dl-lib-');
    cleanups.push(cleanup);
    const before = process.env.CONVNET_MODEL_URL;
    process.env.CONVNET_MODEL_URL = url;
    cleanups.push(() => {
      if (before === undefined) {
        delete process.env.CONVNET_MODEL_URL;
      } else {
        process.env.CONVNET_MODEL_URL = before;
      }
    });
    const studio = openStudio({ libraryDir: dir, host: 'cli' });
    cleanups.push(() => studio.close());
    const ended = new Promise<PretrainedFetch>((resolve) => studio.events.on('models.fetchProgress', (p) => p.state === 'failed' && resolve(p)));
    expect((await studio.call('models.fetch', { model: 'imagenet-alexnet' })).state).toBe('downloading');
    const failed = await ended;
    expect(failed.message).toBe(
      `Could not reach 127.0.0.1:${port} (ECONNREFUSED). This computer seems to be offline: download ${url} on a connected machine, then import it with \`convnet models import alexnet-owt-7be5be79.pth\` or drop the file onto the window.`,
    );
    expect((await studio.call('models.fetchStatus', { model: 'imagenet-alexnet' })).state).toBe('failed');
    expect(await studio.call('models.list')).toEqual([]);
  });
});
