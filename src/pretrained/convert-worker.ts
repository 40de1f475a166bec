// Worker thread: reads a .pth or .onnx AlexNet and writes it as a model folder (convert-file.ts starts it).
import { parentPort, workerData } from 'node:worker_threads';
import { activateBackend, chooseBackend } from '../backends/index.js';
import { convertFileToFolder, type ConvertReply, type ConvertRequest } from './convert-file.js';

const data = workerData as ConvertRequest;
const reply = (m: ConvertReply): void => parentPort!.postMessage(m);

try {
  await activateBackend((await chooseBackend('auto')).name);
  reply({ ok: true, result: await convertFileToFolder(data.file, data.outDir) });
} catch (err) {
  reply({ ok: false, message: (err as Error).message, refused: (err as { refused?: boolean }).refused === true });
}
