import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from '../api/dispatch.js';
import type { PretrainedFetch, PretrainedName } from '../api/pretrained.js';
import { ApiError } from '../api/errors.js';
import { importModel } from '../classify/models-store.js';
import type { StudioContext } from '../library/studio-context.js';
import { downloadVerified, DownloadError, sha256PrefixOf } from './download.js';
import { importWeightsFile, isWeightsFile } from './import-file.js';

/** Where each pretrained network comes from: torchvision's IMAGENET1K_V1 AlexNet (56.5 % / 79.1 % top-1/top-5). */
export const PRETRAINED_SOURCES: Record<PretrainedName, { url: string; title: string }> = {
  'imagenet-alexnet': { url: 'https://download.pytorch.org/models/alexnet-owt-7be5be79.pth', title: 'ImageNet AlexNet (torchvision IMAGENET1K_V1)' },
};

/** The address to download from: `CONVNET_MODEL_URL` overrides it (a mirror, or a local server in tests). */
export function pretrainedUrl(model: PretrainedName, env: NodeJS.ProcessEnv = process.env): string {
  return env.CONVNET_MODEL_URL || PRETRAINED_SOURCES[model].url;
}

/** The sentence an offline download ends with: where the file is and how to import it by hand. */
export function offlineMessage(url: string, reason: string): string {
  const file = path.posix.basename(new URL(url).pathname);
  return `${reason} This computer seems to be offline: download ${url} on a connected machine, then import it with \`convnet models import ${file}\` or drop the file onto the window.`;
}

type ModelsInMethod = 'models.import' | 'models.fetch' | 'models.fetchStatus' | 'models.fetchCancel';

/**
 * Bringing a model in: `models.import` of a model folder (classify/models-store.ts) or a weights file (converted
 * here), and `models.fetch*`, one download (then import) per pretrained network at a time, progress as events.
 */
export function pretrainedHandlers(ctx: StudioContext): Pick<Handlers, ModelsInMethod> {
  const states = new Map<PretrainedName, PretrainedFetch>();
  const controllers = new Map<PretrainedName, AbortController>();
  const running = new Set<Promise<void>>();
  const stateOf = (model: PretrainedName): PretrainedFetch =>
    states.get(model) ?? { model, state: 'idle', url: pretrainedUrl(model), received: 0, total: null, message: null, modelId: null };
  const update = (model: PretrainedName, change: Partial<PretrainedFetch>): PretrainedFetch => {
    const next = { ...stateOf(model), ...change };
    states.set(model, next);
    ctx.events.emit('models.fetchProgress', next);
    return next;
  };
  ctx.closers.push(async () => {
    controllers.forEach((c) => c.abort());
    await Promise.allSettled([...running]);
  });

  async function run(model: PretrainedName, url: string, signal: AbortSignal): Promise<void> {
    const prefix = sha256PrefixOf(url);
    const file = path.join(ctx.library.dir, 'downloads', path.posix.basename(new URL(url).pathname));
    try {
      if (!prefix) {
        throw new DownloadError('http', `${url} names no SHA-256 prefix (name-<hex>.pth), so the file could not be verified; nothing was downloaded.`);
      }
      let last = 0;
      await downloadVerified(url, file, {
        sha256Prefix: prefix,
        signal,
        onProgress: (p) => {
          if (Date.now() - last > 250 || p.received === p.total) {
            last = Date.now();
            update(model, { received: p.received, total: p.total });
          }
        },
      });
      update(model, { state: 'importing' });
      const imported = await importWeightsFile(ctx.library, file, PRETRAINED_SOURCES[model].title, url);
      fs.rmSync(file, { force: true }); // converted into the library; the 233 MB original is not needed again
      update(model, { state: 'done', modelId: imported.id });
    } catch (err) {
      const e = err as Error;
      if (e instanceof DownloadError && e.kind === 'cancelled') {
        update(model, { state: 'cancelled', message: e.message });
      } else {
        update(model, { state: 'failed', message: e instanceof DownloadError && e.kind === 'offline' ? offlineMessage(url, e.message) : e.message });
      }
    } finally {
      controllers.delete(model);
    }
  }

  return {
    'models.import': async ({ dir, name }) => (isWeightsFile(dir) ? importWeightsFile(ctx.library, dir, name) : importModel(ctx.library, dir, name)),
    'models.fetch': async ({ model }) => {
      const now = stateOf(model);
      if (controllers.has(model)) {
        return now;
      }
      const url = pretrainedUrl(model);
      const controller = new AbortController();
      controllers.set(model, controller);
      const started = update(model, { state: 'downloading', url, received: 0, total: null, message: null, modelId: null });
      const task = run(model, url, controller.signal);
      running.add(task);
      void task.finally(() => running.delete(task));
      return started;
    },
    'models.fetchStatus': async ({ model }) => stateOf(model),
    'models.fetchCancel': async ({ model }) => {
      const controller = controllers.get(model);
      if (!controller) {
        throw new ApiError('conflict', `No download of ${model} is running.`);
      }
      if (stateOf(model).state === 'importing') {
        throw new ApiError('conflict', `${model} has finished downloading and is being imported; it can no longer be cancelled.`);
      }
      controller.abort();
      return stateOf(model);
    },
  };
}
