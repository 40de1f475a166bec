import path from 'node:path';
import { printJson, withStudio, type CliIO, type ParsedArgs } from './command.js';

/** `convnet export --format onnx`: writes FILE.onnx and prints ONNX Runtime's parity with the app. */
export async function exportOnnxCli(args: ParsedArgs, io: CliIO, run: string, out: string): Promise<number> {
  const file = path.resolve(out);
  return withStudio(args, io, async (studio) => {
    if (!args.values.json) {
      io.err(`Exporting run ${run} to ${file} (ONNX) and checking it with ONNX Runtime…\n`);
    }
    const r = await studio.call('classify.exportOnnx', { runId: Number(run), outFile: file });
    if (args.values.json) {
      printJson(io, r);
      return 0;
    }
    io.out(`Exported run ${run} to ${r.file} (ONNX opset ${r.opset}, ${(r.bytes / 1e6).toFixed(2)} MB)\n`);
    const p = r.parity;
    if (p.images === 0 || p.top1Agreement === null) {
      io.out(`Parity: not checked. ${p.note ?? ''}\n`);
    } else {
      io.out(
        `Parity (${p.backend}, ${p.images} ${p.split} images): top-1 agreement ${(100 * p.top1Agreement).toFixed(2)}%, ` +
          `max |Δprob| ${p.maxProbDiff!.toExponential(2)}${p.note ? `. ${p.note}` : ''}\n`,
      );
    }
    return 0;
  });
}
