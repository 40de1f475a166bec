// classify.gradcam on a tiny trained run: a classified file's heat map by job and position, for its top-1 and for
// another class, with the model the job used (a run, an exported folder or a torchvision .pth imported as a model),
// and clear refusals for hostile input: an unknown job, a huge or missing position, a class the model lacks, and
// files that went away, became a folder or stopped being an image after they were classified.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src/api/dispatch.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { seededTorchvisionAlexnet, stateDictPth } from '../../helpers/torch-pth.js';
import { trainedFixture, type TrainedFixture } from './fixture.js';

let fx: TrainedFixture;
let studio: Studio;

beforeAll(async () => {
  fx = await trainedFixture();
  studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
});
afterAll(async () => {
  await studio?.close();
  fx?.cleanup();
});

/** A finished job over `files` with `source`. */
async function classified(files: string[], source: { runId: number } | { modelId: number } = { runId: fx.runId }) {
  const { jobId } = await studio.call('classify.files', { source, paths: files });
  return studio.call('classify.job', { jobId, wait: true });
}

/** The bytes of a /media/ picture as the hosts serve it. */
async function media(url: string): Promise<Buffer> {
  const resolved = await studio.resolveMedia(new URL(url, 'http://localhost'));
  expect(resolved?.status).toBe(200);
  return resolved && 'file' in resolved ? fs.readFileSync(resolved.file) : Buffer.from((resolved as { body: Uint8Array }).body);
}

describe('classify.gradcam', () => {
  it("explains a classified file's top-1 class, then another of its classes, with a PNG over the image", async () => {
    const job = await classified(fx.good.slice(0, 2));
    const top = job.results[1]!.predictions;
    const cam = await studio.call('classify.gradcam', { jobId: job.jobId, index: 1 });
    expect(cam.label).toBe(top[0]!.label);
    expect(cam.className).toBe(top[0]!.label);
    expect(cam.probability).toBeCloseTo(top[0]!.probability, 4);
    expect(cam.classProbability).toBe(cam.probability);
    expect(cam.layer).toBe(cam.convLayers.at(-1));
    expect(cam.url).toMatch(new RegExp(`^/media/classified/${job.jobId}/1/gradcam/[0-9a-f]{16}\\.png\\?v=\\d+$`));
    const png = await media(cam.url);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', cam.width, cam.height]);
    expect([cam.width, cam.height]).toEqual([32, 32]);

    const other = top[2]!;
    const second = await studio.call('classify.gradcam', { jobId: job.jobId, index: 1, classLabel: other.label, layer: cam.convLayers[0] });
    expect([second.className, second.label, second.layer]).toEqual([other.label, cam.label, cam.convLayers[0]]);
    expect(second.classProbability).toBeCloseTo(other.probability, 4);
    expect(second.url.split('?')[0]).not.toBe(cam.url.split('?')[0]);
    expect(Buffer.compare(await media(second.url), png)).not.toBe(0);
  });

  it('explains with an imported model folder too', async () => {
    const outDir = path.join(fx.root, 'exported');
    await studio.call('classify.export', { runId: fx.runId, outDir });
    const model = await studio.call('models.import', { dir: outDir, name: 'shapes model' });
    const job = await classified([fx.good[0]!], { modelId: model.id });
    const cam = await studio.call('classify.gradcam', { jobId: job.jobId, index: 0 });
    expect(cam.label).toBe(job.results[0]!.predictions[0]!.label);
    expect(cam.probability).toBeCloseTo(job.results[0]!.predictions[0]!.probability, 4);
    expect((await sharp(await media(cam.url)).metadata()).format).toBe('png');
  });

  it('explains with an imported torchvision AlexNet .pth (converted into a model folder)', async () => {
    const pth = path.join(fx.root, 'alexnet.pth');
    fs.writeFileSync(pth, stateDictPth(seededTorchvisionAlexnet(11)));
    const model = await studio.call('models.import', { dir: pth });
    fs.rmSync(pth);
    const job = await classified([fx.good[0]!], { modelId: model.id });
    const [top1, second] = job.results[0]!.predictions;
    const cam = await studio.call('classify.gradcam', { jobId: job.jobId, index: 0, classLabel: second!.label });
    expect([cam.label, cam.className, cam.layer]).toEqual([top1!.label, second!.label, cam.convLayers.at(-1)]);
    expect(cam.convLayers).toHaveLength(5);
    expect(cam.classProbability).toBeCloseTo(second!.probability, 4);
    expect((await sharp(await media(cam.url)).metadata()).width).toBe(32);
  }, 300_000);

  it('refuses hostile input with a clear message and keeps answering', async () => {
    const dir = path.join(fx.root, 'changing');
    fs.mkdirSync(dir);
    const [gone, folder, text] = ['gone.png', 'folder.png', 'text.png'].map((n) => path.join(dir, n)) as [string, string, string];
    for (const f of [gone, folder, text]) {
      fs.copyFileSync(fx.good[0]!, f);
    }
    const job = await classified([gone, folder, text]);
    expect(job.results.map((r) => r.path)).toEqual([gone, folder, text]);
    fs.rmSync(gone);
    fs.rmSync(folder);
    fs.mkdirSync(folder);
    fs.writeFileSync(text, 'now these are notes, not an image\n');

    const call = (input: unknown) => dispatch(studio.handlers, 'classify.gradcam', input);
    const refusal = async (input: unknown): Promise<{ code: string; message: string }> => {
      const reply = await call(input);
      expect(reply.ok).toBe(false);
      return (reply as { error: { code: string; message: string } }).error;
    };
    expect(await refusal({ jobId: job.jobId, index: 0 })).toEqual({ code: 'not_found', message: `${gone} is gone: it was moved or deleted after it was classified.` });
    expect(await refusal({ jobId: job.jobId, index: 1 })).toEqual({ code: 'conflict', message: `${folder} is now a folder, not the image that was classified.` });
    const notImage = await refusal({ jobId: job.jobId, index: 2 });
    expect(notImage.code).toBe('conflict');
    expect(notImage.message).toMatch(new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be explained: not an image`));
    expect(await refusal({ jobId: job.jobId, index: 3 })).toEqual({ code: 'not_found', message: `Job ${job.jobId} has no result 3: it has 3 classified images (counted from 0).` });
    expect((await refusal({ jobId: job.jobId, index: 1e15 })).code).toBe('bad_request');
    expect((await refusal({ jobId: job.jobId, index: -1 })).code).toBe('bad_request');
    expect((await refusal({ jobId: job.jobId, index: 0.5 })).code).toBe('bad_request');
    expect((await refusal({ jobId: 'x'.repeat(10_000), index: 0 })).code).toBe('bad_request');
    expect((await refusal({ jobId: '../../etc', index: 0 })).code).toBe('not_found');
    expect((await refusal({ jobId: job.jobId, index: 0, classLabel: 'giraffe' })).message).toBe(`The model of job ${job.jobId} has no class "giraffe"; its classes are circle, hstripes, square.`);
    const badLayer = await refusal({ jobId: (await classified([fx.good[0]!])).jobId, index: 0, layer: 'fc7' });
    expect(badLayer.code).toBe('conflict');
    expect(badLayer.message).toMatch(/^Run \d+'s network has no convolution layer "fc7"; its convolution layers are conv1, .*conv5\.$/);
    const media404 = await studio.resolveMedia(new URL(`http://localhost/media/classified/${job.jobId}/1/gradcam/0123456789abcdef.png`));
    expect(media404?.status).toBe(404);

    // Still answering after all that.
    const ok = await studio.call('classify.gradcam', { jobId: (await classified([fx.good[1]!])).jobId, index: 0 });
    expect(ok.url).toContain('/gradcam/');
  });
});
