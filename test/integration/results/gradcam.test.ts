// results.gradcam: a library image of a run explained in the evaluation worker, served under /media/,
// agreeing with the run's stored prediction; bad layer or class answered with the choices.
import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, type Studio } from '../../../src/studio.js';
import { trainedFixture, type TrainedFixture } from '../classify/fixture.js';

let fx: TrainedFixture;
let studio: Studio;
let imageId: number;

beforeAll(async () => {
  fx = await trainedFixture();
  studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
  imageId = (studio.library.db.prepare("SELECT image_id FROM run_images WHERE run_id = ? AND split = 'val' ORDER BY image_id LIMIT 1").get(fx.runId) as { image_id: number }).image_id;
});
afterAll(async () => {
  await studio?.close();
  fx?.cleanup();
});

describe('results.gradcam', () => {
  it("overlays the image at its own size, for the class the run's stored prediction names", async () => {
    const cam = await studio.call('results.gradcam', { runId: fx.runId, imageId });
    const stored = await studio.call('results.image', { runId: fx.runId, imageId });
    expect(cam.label).toBe(stored.prediction!.predictedClass);
    expect(cam.probability).toBeCloseTo(stored.prediction!.confidence, 3);
    expect([cam.className, cam.layer, cam.convLayers]).toEqual([cam.label, 'conv5', ['conv1', 'conv2', 'conv3', 'conv4', 'conv5']]);
    const media = await studio.resolveMedia(new URL(cam.url, 'http://127.0.0.1'));
    expect(media?.status).toBe(200);
    const file = (media as { file: string }).file;
    const source = (studio.library.db.prepare('SELECT path, width, height FROM images WHERE id = ?').get(imageId) as { path: string; width: number; height: number });
    const meta = await sharp(file).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', source.width, source.height]);
    expect([cam.width, cam.height]).toEqual([source.width, source.height]);
    expect(fs.readFileSync(file).equals(fs.readFileSync(source.path))).toBe(false);

    const other = await studio.call('results.gradcam', { runId: fx.runId, imageId, layer: 'conv2', classLabel: 'hstripes' });
    expect([other.className, other.layer]).toEqual(['hstripes', 'conv2']);
    expect(other.url).not.toBe(cam.url.split('?')[0]);
    expect((await studio.resolveMedia(new URL(other.url, 'http://127.0.0.1')))?.status).toBe(200);
  });

  it('answers a bad layer, class or image with a message naming the choices', async () => {
    await expect(studio.call('results.gradcam', { runId: fx.runId, imageId, layer: 'fc6' })).rejects.toThrow(
      `Run ${fx.runId}'s network has no convolution layer "fc6"; its convolution layers are conv1, conv2, conv3, conv4, conv5.`,
    );
    await expect(studio.call('results.gradcam', { runId: fx.runId, imageId, classLabel: 'triangle' })).rejects.toThrow(
      `Run ${fx.runId} has no class "triangle"; its classes are circle, hstripes, square.`,
    );
    await expect(studio.call('results.gradcam', { runId: fx.runId, imageId, layer: '../x' })).rejects.toThrow('"../x" is not a layer name.');
    await expect(studio.call('results.gradcam', { runId: fx.runId, imageId: 99999 })).rejects.toThrow(`Image 99999 is not in run ${fx.runId}'s data.`);
  });
});
