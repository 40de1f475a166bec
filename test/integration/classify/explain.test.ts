// `convnet explain` on a tiny trained run: Grad-CAM overlays at each image's own size, the label and
// probability `classify` gives, and clear messages for a bad layer, class or file.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { captureIO, trainedFixture, type TrainedFixture } from './fixture.js';

let fx: TrainedFixture;
let wide: string;

beforeAll(async () => {
  fx = await trainedFixture();
  // A non-square image: the overlay must come back at 90×50, not at the network's input size.
  wide = path.join(fx.root, 'wide-circle.png');
  await sharp(fx.good.find((f) => f.includes('circle-0'))!).resize(90, 50, { fit: 'fill' }).png().toFile(wide);
});
afterAll(() => fx?.cleanup());

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO();
  const code = await runCli([...argv, '--library', fx.lib], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const lines = (text: string): Array<Record<string, unknown>> => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('convnet explain', () => {
  it('writes an overlay per image at its own size, with the top-1 label and probability classify gives', async () => {
    const out = path.join(fx.root, 'cams');
    const files = [wide, fx.good[0]!];
    const r = await cli('explain', '--run', String(fx.runId), ...files, '--out', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const items = lines(r.stdout);
    const classified = lines((await cli('classify', '--run', String(fx.runId), ...files, '--json')).stdout);
    expect(items.map((i) => i.file)).toEqual(files);
    for (const [i, item] of items.entries()) {
      const top = (classified[i]!.predictions as Array<{ label: string; probability: number }>)[0]!;
      expect(item.label).toBe(top.label);
      expect(item.probability as number).toBeCloseTo(top.probability, 4);
      expect(item.class).toBe(item.label);
      expect(item.layer).toBe('conv5');
      expect(item.out).toBe(path.join(out, `${path.basename(files[i]!, '.png')}.gradcam.png`));
      const original = await sharp(files[i]!).metadata();
      const meta = await sharp(item.out as string).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', original.width, original.height]);
      expect([item.width, item.height]).toEqual([original.width, original.height]);
    }
    // The overlay is the image with colour blended over it, not a copy.
    const [a, b] = await Promise.all([sharp(wide).removeAlpha().raw().toBuffer(), sharp(items[0]!.out as string).removeAlpha().raw().toBuffer()]);
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);
  });

  it('explains a chosen class at a chosen layer into one named PNG, and says so in the text output', async () => {
    const out = path.join(fx.root, 'one', 'square-map.png');
    const r = await cli('explain', '--run', String(fx.runId), fx.good[0]!, '--out', out, '--layer', 'conv1', '--class', 'square');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S+\t(circle|hstripes|square) \d+\.\d%( {2}\(map for square \d+\.\d%\))?\t\S+square-map\.png\n$/);
    expect(r.stderr).toMatch(/^1 explained, 0 failed at layer conv1 \(\w+\)\.\n$/);
    expect(fs.existsSync(out)).toBe(true);
    const json = lines((await cli('explain', '--run', String(fx.runId), fx.good[0]!, '--out', out, '--layer', 'conv1', '--class', 'square', '--json')).stdout)[0]!;
    expect([json.class, json.layer, json.out]).toEqual(['square', 'conv1', out]);
    expect(Object.keys(json).sort()).toEqual(['class', 'classProbability', 'file', 'height', 'label', 'layer', 'out', 'probability', 'width']);
  });

  it('refuses an unknown layer or class with the choices listed, and no stack trace', async () => {
    const out = path.join(fx.root, 'bad');
    const layer = await cli('explain', '--run', String(fx.runId), fx.good[0]!, '--out', out, '--layer', 'fc6');
    expect(layer.code).toBe(1);
    expect(layer.stderr).toBe(`convnet explain: Run ${fx.runId}'s network has no convolution layer "fc6"; its convolution layers are conv1, conv2, conv3, conv4, conv5.\n`);
    const cls = await cli('explain', '--run', String(fx.runId), fx.good[0]!, '--out', out, '--class', 'triangle');
    expect(cls.code).toBe(1);
    expect(cls.stderr).toBe(`convnet explain: Run ${fx.runId} has no class "triangle"; its classes are circle, hstripes, square.\n`);
    const run = await cli('explain', '--run', '999', fx.good[0]!, '--out', out);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('convnet explain: Run 999 does not exist.\n');
    const two = await cli('explain', '--run', String(fx.runId), fx.good[0]!, fx.good[1]!, '--out', path.join(out, 'x.png'));
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('names one PNG file but 2 images were given; name a folder for several.');
    const self = await cli('explain', '--run', String(fx.runId), fx.good[0]!, '--out', fx.good[0]!);
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('--out would overwrite the input image');
  });

  it('reports files it cannot read with their reason and still explains the others', async () => {
    const out = path.join(fx.root, 'mixed');
    const missing = path.join(fx.root, 'no-such.png');
    const r = await cli('explain', '--run', String(fx.runId), fx.bad.text, missing, fx.good[1]!, fx.bad.corrupt, '--out', out, '--json');
    expect(r.code).toBe(1);
    const items = lines(r.stdout);
    expect(items.map((i) => [i.file, 'error' in i])).toEqual([[fx.bad.text, true], [missing, true], [fx.good[1]!, false], [fx.bad.corrupt, true]]);
    expect(items[0]!.error).toMatch(/not an image/i);
    expect(items[1]!.error).toBe('unreadable: no such file');
    expect(fs.readdirSync(out)).toEqual([`${path.basename(fx.good[1]!, '.png')}.gradcam.png`]);
  });

  it('--help lists the options with their defaults', async () => {
    const r = await cli('explain', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--layer NAME +the convolution layer to look at \(default: the last convolution layer\)/);
    expect(r.stdout).toMatch(/--class LABEL +the class to explain \(default: each image's top-1 class\)/);
    expect((await cli('--help')).stdout).toMatch(/\n {2}explain +Grad-CAM heat maps/);
  });
});
