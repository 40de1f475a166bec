import path from 'node:path';
import { fetchPretrained } from './models-fetch.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, UsageError, withStudio, type Command } from './command.js';
import { exportOnnxCli } from './export-onnx.js';
import { exportTorchCli } from './torch-bundle.js';

/** `convnet export --run ID --out DIR|FILE [--format tfjs|onnx|torch]`: writes the model and prints its parity check. */
export const exportCommand: Command = {
  name: 'export',
  summary: "Export a run's model as a TF.js folder, an ONNX file or a PyTorch DDP bundle, and check parity",
  usage: 'convnet export --run ID --out DIR|FILE.onnx [--format tfjs|onnx|torch] [--with-images] [--library DIR] [--json]',
  options: { ...LIBRARY_OPTIONS, run: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, 'with-images': { type: 'boolean' } },
  optionHelp: [
    { flag: '--run ID', text: 'the run whose model to export (required; see `convnet runs`)' },
    { flag: '--out DIR|FILE', text: 'tfjs, torch: the folder to write (tfjs creates it if missing); onnx: the new .onnx file (required)' },
    { flag: '--format F', text: 'tfjs (default): TF.js folder checked in a fresh process; onnx: one ONNX file (opset 13) checked with ONNX Runtime; torch: PyTorch DDP bundle (model.py, train.py, manifest) for torchrun' },
    { flag: '--with-images', text: 'with --format torch: pack the images into the bundle as tar shards (default: manifest only)' },
    ...LIBRARY_HELP,
  ],
  async run(args, io) {
    const run = args.values.run;
    if (typeof run !== 'string' || !/^\d+$/.test(run) || typeof args.values.out !== 'string') {
      throw new UsageError(`--run ID and --out DIR are required.\nUsage: ${this.usage}`);
    }
    const format = args.values.format ?? 'tfjs';
    if (format !== 'tfjs' && format !== 'onnx' && format !== 'torch') {
      throw new UsageError(`--format takes tfjs, onnx or torch, got "${String(format)}".\nUsage: ${this.usage}`);
    }
    if (args.values['with-images'] && format !== 'torch') {
      throw new UsageError('--with-images goes with --format torch.');
    }
    if (format === 'onnx') {
      return exportOnnxCli(args, io, run, args.values.out);
    }
    const outDir = path.resolve(args.values.out);
    if (format === 'torch') {
      return exportTorchCli(args, io, Number(run), outDir);
    }
    return withStudio(args, io, async (studio) => {
      if (!args.values.json) {
        io.err(`Exporting run ${run} to ${outDir} and reloading it in a fresh process…\n`);
      }
      const r = await studio.call('classify.export', { runId: Number(run), outDir });
      if (args.values.json) {
        printJson(io, r);
        return 0;
      }
      io.out(`Exported run ${run} to ${r.dir}: ${r.files.join(', ')}\n`);
      const p = r.parity;
      if (p.images === 0 || p.top1Agreement === null) {
        io.out(`Parity: not checked. ${p.note ?? ''}\n`);
      } else {
        io.out(
          `Parity (fresh process, ${p.backend}, ${p.images} ${p.split} images): top-1 agreement ${(100 * p.top1Agreement).toFixed(2)}%, ` +
            `max |Δprob| ${p.maxProbDiff!.toExponential(2)}${p.note ? `. ${p.note}` : ''}\n`,
        );
      }
      return p.top1Agreement === null || p.top1Agreement === 1 ? 0 : 1;
    });
  },
};

/** `convnet models [list] | import DIR [--name N] | delete ID`: models imported into the library. */
export const modelsCommand: Command = {
  name: 'models',
  summary: 'List, import (a folder made by `convnet export`, a torchvision AlexNet .pth or an ONNX AlexNet), fetch or delete models in the library',
  usage: 'convnet models [list | import DIR|FILE [--name NAME] | fetch imagenet-alexnet | delete ID] [--library DIR] [--json]',
  options: { ...LIBRARY_OPTIONS, name: { type: 'string' } },
  optionHelp: [
    ...LIBRARY_HELP,
    { flag: '--name NAME', text: "with import: the model's name in the library (default: the folder's or file's name)" },
  ],
  async run(args, io) {
    const [action = 'list', target, ...extra] = args.positionals;
    if (extra.length || !['list', 'import', 'fetch', 'delete'].includes(action) || (action !== 'list' && !target)) {
      throw new UsageError(`Usage: ${this.usage}`);
    }
    return withStudio(args, io, async (studio) => {
      if (action === 'fetch') {
        return fetchPretrained(studio, target!, args.values.json === true, io);
      }
      if (action === 'import') {
        const m = await studio.call('models.import', { dir: path.resolve(target!), ...(typeof args.values.name === 'string' ? { name: args.values.name } : {}) });
        if (args.values.json) {
          printJson(io, m);
        } else {
          io.out(`Imported model ${m.id} "${m.name}" (${m.arch ?? 'unknown arch'}, ${m.classes.length} classes, ${m.inputSize} px) into ${m.dir}\n`);
        }
        return 0;
      }
      if (action === 'delete') {
        if (!/^\d+$/.test(target!)) {
          throw new UsageError(`models delete takes a model id, got "${target}".`);
        }
        const r = await studio.call('models.delete', { id: Number(target) });
        if (args.values.json) {
          printJson(io, r);
        } else {
          io.out(r.deleted ? `Deleted model ${target}.\n` : `No model ${target}.\n`);
        }
        return r.deleted ? 0 : 1;
      }
      const list = await studio.call('models.list');
      if (args.values.json) {
        printJson(io, list);
        return 0;
      }
      if (list.length === 0) {
        io.out('No imported models. `convnet models import DIR` imports a folder made by `convnet export`.\n');
      }
      for (const m of list) {
        io.out(`${String(m.id).padStart(4)}  ${m.name}  ${m.arch ?? '?'}  ${m.classes.length} classes  ${m.inputSize} px  from ${m.sourceDir}\n`);
      }
      return 0;
    });
  },
};
