import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MethodName, Output, Input } from './api/contract.js';
import { dispatch, type Handlers } from './api/dispatch.js';
import { ApiError } from './api/errors.js';
import { EventBus } from './api/events-bus.js';
import { chooseBackend } from './backends/index.js';
import { computeModeFor } from './backends/webgpu-host.js';
import { classifyHandlers } from './classify/handlers.js';
import { datasetHandlers } from './datasets/handlers.js';
import { resultHandlers } from './evaluate/handlers.js';
import { torchBundleHandlers } from './interchange/torch-bundle/handlers.js';
import { pretrainedHandlers } from './pretrained/handlers.js';
import { onnxExportHandlers } from './interchange/onnx-handlers.js';
import { insightHandlers } from './insight/handlers.js';
import { runHandlers } from './train/handlers.js';
import { runManagerOf, type TrainingEngine } from './train/run-manager.js';
import { tfjsVersion } from './backends/tf.js';
import { openLibrary } from './library/open.js';
import type { HostKind, StudioContext } from './library/studio-context.js';
import type { MediaResponse } from './api/media.js';
import { pkg } from './version.js';

export type { HostKind, StudioContext } from './library/studio-context.js';

export interface StudioOptions {
  libraryDir: string;
  host: HostKind;
  /** better-sqlite3 binary built for Electron, when running unpackaged under Electron. */
  nativeBinding?: string;
}

/** The engine behind every host: one library, one event bus, one handler per contract method. */
export interface Studio extends StudioContext {
  readonly handlers: Handlers;
  /** Training's workers, for what hosts need beyond the contract: wait for a run, end it now, the compute windows. */
  readonly training: TrainingEngine;
  /** Validates and runs one request; throws ApiError on failure (for the CLI and tests). */
  call<M extends MethodName>(method: M, input?: Input<M>): Promise<Output<M>>;
  /** Answers a /media/ URL from the first resolver that owns it; null when none does. */
  resolveMedia(url: URL): Promise<MediaResponse | null>;
  close(): Promise<void>;
}

/** Opens the library and wires every service to the contract. */
export function openStudio(options: StudioOptions): Studio {
  const library = openLibrary(options.libraryDir, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
  const ctx: StudioContext = { library, events: new EventBus(), host: options.host, closers: [], media: [] };
  const handlers: Handlers = {
    ...appHandlers(ctx),
    ...datasetHandlers(ctx, { nativeBinding: options.nativeBinding }),
    ...runHandlers(ctx, { nativeBinding: options.nativeBinding }),
    ...classifyHandlers(ctx, { nativeBinding: options.nativeBinding }),
    ...resultHandlers(ctx, { nativeBinding: options.nativeBinding }),
    ...torchBundleHandlers(ctx, { nativeBinding: options.nativeBinding }),
    ...pretrainedHandlers(ctx),
    ...onnxExportHandlers(ctx),
    ...insightHandlers(ctx, { nativeBinding: options.nativeBinding }),
  };
  let closed = false;
  return {
    ...ctx,
    handlers,
    training: runManagerOf(ctx),
    async resolveMedia(url) {
      for (const resolver of ctx.media) {
        const answer = await resolver(url);
        if (answer) {
          return answer;
        }
      }
      return null;
    },
    async call(method, input) {
      const reply = await dispatch(handlers, method, input);
      if (!reply.ok) {
        throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
      }
      return reply.result as Output<typeof method>;
    },
    async close() {
      if (closed) {
        return;
      }
      closed = true;
      for (const closer of ctx.closers.reverse()) {
        await closer();
      }
      library.close();
    },
  };
}

/** The user's Documents folder when it exists, else the home folder (never the library: exports are the user's files). */
function documentsFolder(): string {
  const home = os.homedir();
  const documents = path.join(home, 'Documents');
  return fs.existsSync(documents) ? documents : home;
}

/** `app.*`: what the status bar and `convnet info` show. */
function appHandlers(ctx: StudioContext): Pick<Handlers, 'app.info' | 'app.ping' | 'app.compute'> {
  return {
    'app.info': async () => {
      const backend = await chooseBackend('auto');
      return {
        name: pkg.productName,
        version: pkg.version,
        host: ctx.host,
        libraryPath: ctx.library.dir,
        documentsPath: documentsFolder(),
        platform: `${process.platform}-${process.arch}`,
        node: process.versions.node,
        tfjs: tfjsVersion(),
        backend,
        tensorflowAvailable: backend.probes.some((p) => p.name === 'tensorflow' && p.available),
        compute: computeModeFor(ctx.host),
      };
    },
    'app.ping': async () => ({ now: Date.now() }),
    'app.compute': async () => runManagerOf(ctx).computeStatus(),
  };
}
