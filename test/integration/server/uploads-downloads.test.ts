// Browser-mode uploads and downloads against a real `convnet serve` process (upload limit 1 MiB): images uploaded
// then classified, a zip of class folders uploaded then imported, hostile uploads refused with a message and
// nothing written outside <library>/uploads/, an exported model downloaded as a zip that unpacks to the folder.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { startServe, type ServeProcess } from '../../helpers/serve.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { trainedFixture, type TrainedFixture } from '../classify/fixture.js';

let fx: TrainedFixture;
let serve: ServeProcess;

beforeAll(async () => {
  fx = await trainedFixture();
  serve = await startServe(fx.lib, ['--upload-limit', '1']);
});

afterAll(async () => {
  await serve?.stop();
  fx?.cleanup();
});

const auth = (): Record<string, string> => ({ Authorization: `Bearer ${serve.token}` });

async function api<T>(method: string, input: unknown): Promise<T> {
  const res = await fetch(`${serve.origin}/api/${method}`, { method: 'POST', headers: auth(), body: JSON.stringify(input) });
  const reply = (await res.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!reply.ok) {
    throw new Error(`${method}: ${reply.error?.message}`);
  }
  return reply.result;
}

async function openBatch(): Promise<{ id: string; dir: string }> {
  const res = await fetch(`${serve.origin}/upload/batch`, { method: 'POST', headers: auth() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { id: string; dir: string } }).result;
}

async function put(batch: string, kind: 'file' | 'zip', name: string, body: Uint8Array): Promise<{ status: number; reply: { ok: boolean; result?: Record<string, unknown>; error?: { message: string } } }> {
  const res = await fetch(`${serve.origin}/upload/${batch}/${kind}?name=${encodeURIComponent(name)}`, { method: 'PUT', headers: auth(), body: new Uint8Array(body) });
  return { status: res.status, reply: (await res.json()) as never };
}

/** Every path under `dir` (relative), for before/after comparisons. */
function listTree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();
}

describe('uploads and downloads over a real serve process', () => {
  it('uploads image files, classifies them, and shows each classified image through a media route', async () => {
    expect((await fetch(`${serve.origin}/upload/batch`, { method: 'POST' })).status).toBe(401);
    const batch = await openBatch();
    expect(batch.dir.startsWith(path.join(fx.lib, 'uploads') + path.sep)).toBe(true);
    expect((await fetch(`${serve.origin}/upload/${batch.id}/file?name=a.png`, { method: 'PUT', body: fs.readFileSync(fx.good[0]!) })).status).toBe(401);
    const uploaded: string[] = [];
    for (const file of fx.good) {
      const { status, reply } = await put(batch.id, 'file', `photos/${path.basename(file)}`, fs.readFileSync(file));
      expect(status).toBe(200);
      uploaded.push(reply.result!.path as string);
    }
    for (const [i, file] of uploaded.entries()) {
      expect(file).toBe(path.join(batch.dir, 'photos', path.basename(fx.good[i]!)));
      expect(fs.readFileSync(file).equals(fs.readFileSync(fx.good[i]!))).toBe(true);
    }
    const { jobId } = await api<{ jobId: string }>('classify.files', { source: { runId: fx.runId }, paths: [path.join(batch.dir, 'photos')] });
    const job = await api<{ status: string; results: Array<{ path: string; predictions: Array<{ label: string }> }>; errors: unknown[] }>('classify.job', { jobId, wait: true });
    expect(job.status).toBe('completed');
    expect(job.errors).toEqual([]);
    expect(job.results.map((r) => r.path)).toEqual(uploaded);
    for (const r of job.results) {
      expect(['circle', 'square', 'hstripes']).toContain(r.predictions[0]!.label);
    }

    const media = await fetch(`${serve.origin}/media/classified/${jobId}/0`, { headers: auth() });
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await media.arrayBuffer())).metadata();
    expect(meta.width).toBe(32);
    expect((await fetch(`${serve.origin}/media/classified/${jobId}/0`)).status).toBe(401);
    const missing = await fetch(`${serve.origin}/media/classified/${jobId}/99`, { headers: auth() });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('has no result 99');

    const csv = await fetch(`${serve.origin}/download/results/${jobId}.csv`, { headers: auth() });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="classification.csv"');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('path,top1,confidence,top5,error');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(uploaded);
  });

  it('uploads a zip of class folders, unpacks it inside uploads/ and imports it as a dataset', async () => {
    const shapes = path.join(fx.root, 'zip-src');
    await writeShapesDataset(shapes, 4, 32, 3, ['circle', 'square']);
    const entries: Zippable = {};
    for (const cls of ['circle', 'square']) {
      for (const name of fs.readdirSync(path.join(shapes, cls))) {
        entries[`garden/${cls}/${name}`] = fs.readFileSync(path.join(shapes, cls, name));
      }
    }
    entries['__MACOSX/garden/circle/._circle-0000.png'] = new Uint8Array([0, 5, 22, 7]);
    const batch = await openBatch();
    const { status, reply } = await put(batch.id, 'zip', 'garden.zip', zipSync(entries));
    expect(status).toBe(200);
    expect(reply.result).toMatchObject({ dir: path.join(batch.dir, 'garden'), root: path.join(batch.dir, 'garden', 'garden'), files: 8 });
    expect(listTree(path.join(batch.dir, 'garden', 'garden'))).toEqual([
      'circle', 'circle/circle-0000.png', 'circle/circle-0001.png', 'circle/circle-0002.png', 'circle/circle-0003.png',
      'square', 'square/square-0000.png', 'square/square-0001.png', 'square/square-0002.png', 'square/square-0003.png',
    ]);
    expect(listTree(batch.dir)).toEqual(['garden', ...listTree(path.join(batch.dir, 'garden')).map((p) => `garden/${p}`)]);

    await api('datasets.import', { paths: [reply.result!.root] });
    await expect.poll(async () => (await api<unknown[]>('datasets.importJobs', {})).length, { timeout: 60_000 }).toBe(0);
    const list = await api<Array<{ name: string; images: number; classes: number }>>('datasets.list', {});
    expect(list.find((d) => d.name === 'garden')).toMatchObject({ images: 8, classes: 2 });
  });

  it('refuses zip-slip, absolute, symlink and bomb archives, oversized files and non-images with a message, writing nothing outside uploads/', async () => {
    const png = fs.readFileSync(fx.good[0]!);
    const before = listTree(fx.root).filter((p) => !p.startsWith('lib/'));
    const libBefore = fs.readdirSync(fx.lib).sort();
    const batch = await openBatch();
    const refusals: Array<[string, Promise<{ status: number; reply: { error?: { message: string } } }>, number, RegExp]> = [
      ['zip-slip', put(batch.id, 'zip', 'slip.zip', zipSync({ 'ok/a.png': png, '../../../evil.txt': new TextEncoder().encode('pwned') })), 400, /"\.\.\/\.\.\/\.\.\/evil\.txt" climbs out of its folder/],
      ['absolute', put(batch.id, 'zip', 'abs.zip', zipSync({ [`${fx.root}/evil-abs.txt`]: new Uint8Array([1]) })), 400, /is an absolute path/],
      ['symlink', put(batch.id, 'zip', 'link.zip', zipSync({ 'ok/a.png': png, 'ok/passwd.png': [new TextEncoder().encode('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] })), 400, /symbolic link \("ok\/passwd\.png"\)/],
      ['bomb', put(batch.id, 'zip', 'bomb.zip', zipSync({ 'ok/zeros.png': new Uint8Array(8 * 1024 * 1024) })), 413, /unpacks to more than 4 MiB/],
      ['lying bomb', put(batch.id, 'zip', 'liar.zip', lieAboutSize(zipSync({ 'ok/zeros.png': new Uint8Array(3 * 1024 * 1024) }), 100)), 413, /unpacks to more than it declares/],
      ['oversized file', put(batch.id, 'file', 'big.png', Buffer.concat([png, Buffer.alloc(2 * 1024 * 1024)])), 413, /big\.png is larger than 1 MiB, the most accepted for one file/],
      ['non-image', put(batch.id, 'file', 'notes.png', new TextEncoder().encode('these are my notes, not an image\n')), 415, /notes\.png is not an image/],
      ['empty', put(batch.id, 'file', 'empty.png', new Uint8Array(0)), 415, /empty\.png is empty/],
      ['traversal name', put(batch.id, 'file', '../../evil.png', png), 400, /climbs out of its folder/],
      ['not a zip', put(batch.id, 'zip', 'fake.zip', png), 415, /not a zip archive/],
    ];
    for (const [what, answer, status, message] of refusals) {
      const { status: got, reply } = await answer;
      expect({ what, status: got }).toEqual({ what, status });
      expect(reply.error?.message, what).toMatch(message);
    }
    // Another site's page cannot upload through the user's browser (cross-origin request).
    const foreign = await fetch(`${serve.origin}/upload/${batch.id}/file?name=x.png`, { method: 'PUT', headers: { ...auth(), Origin: 'http://evil.example' }, body: new Uint8Array(png) });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { message: string } }).error.message).toContain('only from this server’s own pages');
    // A client that goes away halfway through a file.
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: serve.port, method: 'PUT', path: `/upload/${batch.id}/file?name=half.png`, headers: { ...auth(), 'Content-Length': 500_000 } });
      req.on('error', () => resolve());
      req.write(Buffer.concat([png, Buffer.alloc(100_000)]), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 200));
    });
    await expect.poll(() => listTree(batch.dir)).toEqual([]);
    // Nothing of the refused uploads stayed: no part files, no half-unpacked folders, nothing outside uploads/.
    expect(listTree(batch.dir)).toEqual([]);
    expect(listTree(fx.root).filter((p) => !p.startsWith('lib/'))).toEqual(before);
    expect(fs.readdirSync(fx.lib).sort()).toEqual(libBefore);
    // The server is still up and answering.
    expect((await put(batch.id, 'file', 'fine.png', png)).status).toBe(200);
  });

  it('downloads an exported model as a zip that unpacks to the model folder', async () => {
    const before = await fetch(`${serve.origin}/download/export/${fx.runId}.zip`, { headers: auth() });
    expect(before.status).toBe(404);
    expect(((await before.json()) as { error: { message: string } }).error.message).toContain('has not been exported since the server started');

    const outDir = path.join(fx.root, 'exports', 'shapes-model');
    const exported = await api<{ dir: string; files: string[] }>('classify.export', { runId: fx.runId, outDir });
    expect((await fetch(`${serve.origin}/download/export/${fx.runId}.zip`)).status).toBe(401);
    const res = await fetch(`${serve.origin}/download/export/${fx.runId}.zip`, { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="shapes-model.zip"');
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const expected = listTree(outDir).filter((p) => fs.statSync(path.join(outDir, p)).isFile());
    expect(Object.keys(files).sort()).toEqual(expected.map((p) => `shapes-model/${p}`));
    expect(expected).toEqual(expect.arrayContaining(['model.json', 'labels.json', 'preprocessing.json']));
    for (const p of expected) {
      expect(Buffer.from(files[`shapes-model/${p}`]!).equals(fs.readFileSync(path.join(outDir, p))), p).toBe(true);
    }
    expect(exported.files.length).toBeGreaterThan(0);
  });
});

/** Rewrites the uncompressed size in a one-entry zip's local and central headers (a zip that lies). */
function lieAboutSize(zip: Uint8Array, size: number): Uint8Array {
  const out = Buffer.from(zip);
  out.writeUInt32LE(size, 22);
  const central = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  out.writeUInt32LE(size, central + 24);
  return out;
}
