import fs from 'node:fs';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import { parameterCount, writeImportedFolder, type ImportedNetwork } from './imported-network.js';
import { alexnetFromOnnx } from './onnx-alexnet.js';
import { GraphRefused } from './onnx-graph.js';
import { PthRefused, readStateDict } from './pth.js';
import { alexnetFromTorchvision } from './torchvision-alexnet.js';

/** Largest weights file an import reads whole into memory (an AlexNet is 233–245 MB). */
export const MAX_WEIGHTS_FILE_BYTES = 1 << 30;

/** What a conversion wrote. */
export interface ConvertResult {
  format: string;
  arch: string;
  parameters: number;
}

/** Work for the conversion worker. */
export interface ConvertRequest {
  file: string;
  outDir: string;
}

/** Its one answer; `refused` marks a file that is not an importable AlexNet (as opposed to a failure of ours). */
export type ConvertReply = { ok: true; result: ConvertResult } | { ok: false; message: string; refused: boolean };

/** Thrown for a file that cannot be imported; the message is a sentence for the user. */
export class ImportRefused extends Error {
  readonly refused = true;
}

/** Reads a weights file into our network: a torch.save zip (or legacy pickle) as a torchvision state_dict, anything else as ONNX. */
export function readNetworkFile(bytes: Uint8Array, file: string): ImportedNetwork {
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b;
  const legacyPickle = bytes[0] === 0x80 && bytes[1] === 0x02;
  try {
    return zip || legacyPickle || /\.(pth|pt)$/i.test(file) ? alexnetFromTorchvision(readStateDict(bytes)) : alexnetFromOnnx(bytes);
  } catch (err) {
    if (err instanceof PthRefused || err instanceof GraphRefused) {
      throw new ImportRefused(`${file}: ${err.message}`);
    }
    throw err;
  }
}

/** Converts `file` into a model folder in the empty `outDir` (on the calling thread: use convertInWorker from the server). */
export async function convertFileToFolder(file: string, outDir: string): Promise<ConvertResult> {
  const size = fs.statSync(file).size;
  if (size > MAX_WEIGHTS_FILE_BYTES) {
    throw new ImportRefused(`${file} is ${size} bytes, more than the ${MAX_WEIGHTS_FILE_BYTES} an AlexNet weights file can be; it was not read.`);
  }
  const net = readNetworkFile(fs.readFileSync(file), file);
  await writeImportedFolder(outDir, net);
  return { format: net.format, arch: net.arch, parameters: parameterCount(net) };
}

/** Converts in a worker thread, so a 250 MB file never blocks the event loop; refusals come back as ImportRefused. */
export async function convertInWorker(file: string, outDir: string): Promise<ConvertResult> {
  const request: ConvertRequest = { file, outDir };
  const worker = spawnWorker(siblingModule(import.meta.url, 'convert-worker'), { workerData: request });
  const reply = await new Promise<ConvertReply>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (err) => resolve({ ok: false, message: `The import worker crashed: ${err.message}`, refused: false }));
    worker.once('exit', () => resolve({ ok: false, message: 'The import worker exited early (out of memory?).', refused: false }));
  });
  await worker.terminate();
  if (!reply.ok) {
    throw reply.refused ? new ImportRefused(reply.message) : new Error(reply.message);
  }
  return reply.result;
}
