import type { PretrainedFetch } from '../api/pretrained.js';
import { PretrainedName } from '../api/pretrained.js';
import type { Studio } from '../studio.js';
import { printJson, UsageError, type CliIO } from './command.js';

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** `convnet models fetch imagenet-alexnet`: downloads (resuming), verifies and imports, with progress on stderr. */
export async function fetchPretrained(studio: Studio, target: string, json: boolean, io: CliIO): Promise<number> {
  const parsed = PretrainedName.safeParse(target);
  if (!parsed.success) {
    throw new UsageError(`models fetch knows ${PretrainedName.options.join(', ')}; got "${target}".`);
  }
  const model = parsed.data;
  let lastLine = 0;
  const finished = new Promise<PretrainedFetch>((resolve) => {
    const off = studio.events.on('models.fetchProgress', (p) => {
      if (p.model !== model) {
        return;
      }
      if (p.state === 'downloading' && p.received > 0 && Date.now() - lastLine > 2000) {
        lastLine = Date.now();
        io.err(`Downloading ${p.url}: ${mb(p.received)}${p.total ? ` of ${mb(p.total)} MB (${Math.floor((100 * p.received) / p.total)} %)` : ' MB'}\n`);
      } else if (p.state === 'importing') {
        io.err('Downloaded and verified (SHA-256); converting into the library…\n');
      }
      if (p.state === 'done' || p.state === 'failed' || p.state === 'cancelled') {
        off();
        resolve(p);
      }
    });
  });
  const onSignal = (): void => void studio.call('models.fetchCancel', { model }).catch(() => {});
  process.once('SIGINT', onSignal);
  try {
    await studio.call('models.fetch', { model });
    const end = await finished;
    if (json) {
      printJson(io, end);
    } else if (end.state === 'done') {
      io.out(`Imported ${model} as model ${end.modelId} (verified download from ${end.url}).\n`);
    } else {
      io.err(`${end.message}\n`);
    }
    return end.state === 'done' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
