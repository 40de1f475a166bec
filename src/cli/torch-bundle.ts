import path from 'node:path';
import { printJson, withStudio, type CliIO, type ParsedArgs } from './command.js';

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);

/** `convnet export --run ID --format torch --out DIR [--with-images]`: writes the PyTorch DDP bundle and prints its check. */
export async function exportTorchCli(args: ParsedArgs, io: CliIO, runId: number, outDir: string): Promise<number> {
  return withStudio(args, io, async (studio) => {
    if (!args.values.json) {
      io.err(`Exporting run ${runId} as a PyTorch DDP bundle to ${outDir}…\n`);
    }
    const r = await studio.call('runs.exportTorch', { runId, outDir, withImages: args.values['with-images'] === true });
    if (args.values.json) {
      printJson(io, r);
      return r.check && !r.check.ok ? 1 : 0;
    }
    io.out(`Exported run ${runId} to ${r.dir}: ${r.files.join(', ')}\n`);
    io.out(`${r.params} parameters; manifest of ${r.images} images${r.shards ? ` (packed in ${r.shards} tar shard${r.shards === 1 ? '' : 's'})` : ' (not copied: train.py --data-root DIR points at them)'}; ${r.referenceImages} reference images.\n`);
    if (r.check) {
      io.out(`train.py --check (${r.check.python}, torch ${r.check.torch}): ${r.check.line.replace(/^check: /, '')}\n`);
    } else {
      io.out(`${r.note ?? 'train.py --check not run.'}\n`);
    }
    io.out(`Train it: cd ${r.dir} && ./launch.sh -- --epochs N --data-root DIR   (README.md: one node, several, SLURM, Ray Train)\n`);
    return r.check && !r.check.ok ? 1 : 0;
  });
}

/** `convnet runs import DIR`: adds a trained bundle's result as a run and compares our evaluation with the bundle's figures. */
export async function runsImportCli(args: ParsedArgs, io: CliIO, dir: string): Promise<number> {
  return withStudio(args, io, async (studio) => {
    if (!args.values.json) {
      io.err(`Importing the result of ${path.resolve(dir)} and evaluating it…\n`);
    }
    const r = await studio.call('runs.importBundle', { dir: path.resolve(dir) });
    if (args.values.json) {
      printJson(io, r);
      return 0;
    }
    const b = r.bundle;
    io.out(`Imported run ${r.run.id} (${r.run.arch}, ${b.epochs} epoch(s), from run ${r.run.parentRunId}): trained with ${b.trainedOn}.\n`);
    io.out(`Bundle reported: val top-1 error ${pct(b.valTop1Error)}, top-5 ${pct(b.valTop5Error)}, loss ${b.valLoss === null ? '-' : b.valLoss.toFixed(4)}.\n`);
    if (r.evaluation) {
      io.out(`Evaluated here (${r.evaluation.split}, ${r.evaluation.images} images): top-1 error ${pct(r.evaluation.top1Error)}, top-5 ${pct(r.evaluation.top5Error)}, loss ${r.evaluation.loss.toFixed(4)}.\n`);
    }
    r.warnings.forEach((w) => io.err(`${w}\n`));
    return 0;
  });
}
