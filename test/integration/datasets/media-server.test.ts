import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { makeImageFolder, type ImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';

let tmp: { dir: string; cleanup(): void };
let studio: Studio;
let server: RunningServer;
let folder: ImageFolder;

beforeAll(async () => {
  tmp = tempDir('convnet-media-');
  folder = await makeImageFolder(path.join(tmp.dir, 'shapes'), { classes: { round: 6, square: 6 }, formats: ['tiff', 'jpeg'], width: 600, height: 300 });
  const ui = path.join(tmp.dir, 'ui');
  fs.mkdirSync(ui);
  fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html>');
  studio = openStudio({ libraryDir: path.join(tmp.dir, 'lib'), host: 'server' });
  server = await startServer({ studio, staticDir: ui });
});

afterAll(async () => {
  await server.close();
  await studio.close();
  tmp.cleanup();
});

const get = (p: string) => fetch(`http://127.0.0.1:${server.port}${p}`, { headers: { Authorization: `Bearer ${server.token}` } });

describe('datasets over the real server', () => {
  let datasetId = 0;

  it('streams import.progress and import.finished over the WebSocket', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const events: Array<{ event: string; payload: { jobId: string; result?: { dataset: { id: number } } } }> = [];
    const finished = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.type === 'event') {
          events.push(message);
          if (message.event === 'import.finished') {resolve();}
        }
      }),
    );
    ws.send(JSON.stringify({ id: 1, method: 'datasets.import', input: { paths: [folder.root] } }));
    await finished;
    ws.close();
    const progress = events.filter((e) => e.event === 'import.progress');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.map((e) => (e.payload as unknown as { phase: string }).phase)).toContain('indexing');
    const end = events.find((e) => e.event === 'import.finished')!;
    expect(end.payload.jobId).toBe(progress[0]!.payload.jobId);
    datasetId = end.payload.result!.dataset.id;
    expect(datasetId).toBeGreaterThan(0);
  });

  it('serves /media/thumb/ID as a webp of at most 256 px, cached under the library', async () => {
    const { items } = await studio.call('images.list', { datasetId, limit: 1 });
    const res = await get(`/media/thumb/${items[0]!.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 128]);
    const image = await studio.call('images.get', { id: items[0]!.id });
    expect(fs.existsSync(path.join(studio.library.thumbsDir, image.sha256.slice(0, 2), `${image.sha256}-256.webp`))).toBe(true);
  });

  it('serves /media/image/ID as the original, and TIFF re-encoded for the browser', async () => {
    const { items } = await studio.call('images.list', { datasetId, limit: 20 });
    const jpeg = items.find((i) => i.format === 'jpeg')!;
    const tiff = items.find((i) => i.format === 'tiff')!;
    const original = await get(`/media/image/${jpeg.id}`);
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    const detail = await studio.call('images.get', { id: jpeg.id });
    expect(Buffer.from(await original.arrayBuffer()).equals(fs.readFileSync(detail.path))).toBe(true);
    const converted = await get(`/media/image/${tiff.id}`);
    expect(converted.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(Buffer.from(await converted.arrayBuffer())).metadata()).width).toBe(600);
  });

  it('answers 404 for bad ids, path tricks and missing source files', async () => {
    // Sent raw (not normalised by the client): the server resolves `..` before routing, so it never reaches /media.
    const raw = await new Promise<{ status: number; type: string; body: string }>((resolve) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/media/image/../../etc/passwd', headers: { Authorization: `Bearer ${server.token}` } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
      });
    });
    expect(raw.body).not.toMatch(/root:/);
    expect(raw.type).not.toMatch(/^image\//);
    for (const p of ['/media/image/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/media/image/..%2F..%2Fetc%2Fpasswd', '/media/thumb/abc', '/media/image/0', '/media/image/99999', '/media/image/1.5', '/media/thumb/1/x']) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
      expect(await res.text()).not.toMatch(/root:/);
    }
    const { items } = await studio.call('images.list', { datasetId, limit: 1, sort: 'size' });
    const detail = await studio.call('images.get', { id: items[0]!.id });
    const moved = detail.path + '.moved';
    fs.renameSync(detail.path, moved);
    try {
      const res = await get(`/media/image/${detail.id}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain(`The source file is missing: ${detail.path}`);
    } finally {
      fs.renameSync(moved, detail.path);
    }
  });
});
