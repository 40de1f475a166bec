import fs from 'node:fs';
import path from 'node:path';
import { runEvalTask } from '../evaluate/eval-task.js';
import type { ExplainedFile } from '../classify/explain-files.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, UsageError, withStudio, type Command } from './command.js';

/**
 * Where each image's overlay goes: `out` itself when it names a .png (one image only), else
 * `out/<name>.gradcam.png` (created), numbered when two images share a name. Never an input file.
 */
export function overlayPaths(files: string[], out: string): string[] {
  let outputs: string[];
  if (/\.png$/i.test(out)) {
    if (files.length !== 1) {
      throw new UsageError(`--out ${out} names one PNG file but ${files.length} images were given; name a folder for several.`);
    }
    outputs = [out];
  } else {
    const taken = new Set<string>();
    outputs = files.map((file) => {
      const stem = path.basename(file, path.extname(file));
      let name = `${stem}.gradcam.png`;
      for (let n = 2; taken.has(name.toLowerCase()); n++) {
        name = `${stem}-${n}.gradcam.png`;
      }
      taken.add(name.toLowerCase());
      return path.join(out, name);
    });
  }
  const inputs = new Set(files.map((f) => path.resolve(f)));
  const clash = outputs.find((o) => inputs.has(path.resolve(o)));
  if (clash) {
    throw new UsageError(`--out would overwrite the input image ${clash}; choose another name.`);
  }
  return outputs;
}

function human(item: ExplainedFile): string {
  if ('error' in item) {
    return `${item.file}\terror: ${item.error}\n`;
  }
  const pct = (p: number): string => `${(100 * p).toFixed(1)}%`;
  const chosen = item.class === item.label ? '' : `  (map for ${item.class} ${pct(item.classProbability)})`;
  return `${item.file}\t${item.label} ${pct(item.probability)}${chosen}\t${item.out}\n`;
}

/**
 * `convnet explain`: Grad-CAM overlays of image files with a run's model (in the evaluation worker), written
 * as PNGs at each image's size; prints the top-1 label and probability per file. `--json` prints one object
 * per file and line: `{file,label,probability,class,classProbability,layer,out,width,height}` or `{file,error}`.
 * Exit code 1 when any file could not be explained.
 */
export const explainCommand: Command = {
  name: 'explain',
  summary: 'Grad-CAM heat maps: what in an image drove a run\'s prediction (PNG overlays)',
  usage: 'convnet explain --run ID FILE... --out DIR|FILE.png [--library DIR] [--layer NAME] [--class LABEL] [--json]',
  optionHelp: [
    { flag: '--run ID', text: 'the run whose latest checkpoint explains the images (required)' },
    { flag: '--out DIR|FILE', text: 'a folder for <name>.gradcam.png overlays (created), or one .png for a single image (required)' },
    { flag: '--layer NAME', text: 'the convolution layer to look at (default: the last convolution layer)' },
    { flag: '--class LABEL', text: "the class to explain (default: each image's top-1 class)" },
    ...LIBRARY_HELP,
  ],
  options: {
    ...LIBRARY_OPTIONS,
    run: { type: 'string' },
    out: { type: 'string' },
    layer: { type: 'string' },
    class: { type: 'string' },
  },
  async run(args, io) {
    const run = args.values.run;
    if (typeof run !== 'string' || !/^\d+$/.test(run)) {
      throw new UsageError(`${run === undefined ? '--run ID is required.' : `--run must be a run id, got "${String(run)}".`}\nUsage: ${this.usage}`);
    }
    if (typeof args.values.out !== 'string' || args.values.out === '') {
      throw new UsageError(`--out DIR|FILE.png is required.\nUsage: ${this.usage}`);
    }
    if (args.positionals.length === 0) {
      throw new UsageError(`Name at least one image file.\nUsage: ${this.usage}`);
    }
    const files = args.positionals.map((p) => path.resolve(p));
    const out = path.resolve(args.values.out);
    const outputs = overlayPaths(files, out);
    const layer = typeof args.values.layer === 'string' ? args.values.layer : null;
    const classLabel = typeof args.values.class === 'string' ? args.values.class : null;
    const json = Boolean(args.values.json);
    return withStudio(args, io, async (studio) => {
      const runId = Number(run);
      await studio.call('runs.get', { id: runId });
      fs.mkdirSync(path.dirname(outputs[0]!), { recursive: true });
      const result = await runEvalTask(studio.library.dir, { kind: 'explain', runId, files, outputs, layer, classLabel });
      for (const item of result.items) {
        io.out(json ? `${JSON.stringify(item)}\n` : human(item));
      }
      const failed = result.items.filter((i) => 'error' in i).length;
      if (!json) {
        io.err(`${result.items.length - failed} explained, ${failed} failed at layer ${result.layer} (${result.backend}).\n`);
      }
      return failed > 0 ? 1 : 0;
    });
  },
};
