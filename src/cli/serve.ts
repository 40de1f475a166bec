import path from 'node:path';
import fs from 'node:fs';
import { resolveLibraryDir } from '../library/paths.js';
import { downloadRoutes } from '../server/downloads.js';
import { startServer } from '../server/index.js';
import { DEFAULT_UPLOAD_LIMITS, uploadLimitsFrom, uploadRoutes } from '../server/uploads.js';
import { openStudio } from '../studio.js';
import { appRoot } from '../version.js';
import { ApiError } from '../api/errors.js';
import { UsageError, type Command } from './command.js';
import { whenParentExits } from './parent-watch.js';

/** Where `npm run build` puts the UI. */
export function rendererDir(): string {
  return path.join(appRoot, 'build', 'renderer');
}

/** `convnet serve`: browser mode on 127.0.0.1 behind a random token; runs until interrupted. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the UI and API to a browser on 127.0.0.1 (token-protected)',
  usage: 'convnet serve [--library DIR] [--port N] [--upload-limit MB] [--json]',
  options: { library: { type: 'string' }, port: { type: 'string' }, 'upload-limit': { type: 'string' }, json: { type: 'boolean', default: false } },
  optionHelp: [
    { flag: '--library DIR', text: "the library folder (default: $CONVNET_LIBRARY, else the platform's data folder)" },
    { flag: '--port N', text: 'the port on 127.0.0.1 (default: 0, any free port)' },
    { flag: '--upload-limit MB', text: 'largest image file or zip a browser may upload, in MB; unpacked archives and one batch may hold 4× that (default: 1024 per image, 4096 per zip)' },
    { flag: '--json', text: 'print {url,port,library,pid} as JSON on one line (default: off)' },
  ],
  async run(args, io) {
    const port = args.values.port === undefined ? 0 : Number(args.values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be an integer from 0 to 65535, got "${String(args.values.port)}".`);
    }
    const uploadLimit = args.values['upload-limit'] === undefined ? null : Number(args.values['upload-limit']);
    if (uploadLimit !== null && !(uploadLimit > 0 && uploadLimit <= 4095)) {
      throw new UsageError(`--upload-limit must be a number of megabytes above 0 and at most 4095, got "${String(args.values['upload-limit'])}".`);
    }
    const staticDir = rendererDir();
    if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
      io.err(`The UI is not built (${staticDir} is missing). Run \`npm run build\` first.\n`);
      return 1;
    }
    const libraryDir = resolveLibraryDir(typeof args.values.library === 'string' ? args.values.library : null, io.env);
    const studio = openStudio({ libraryDir, host: 'server' });
    const routes = [uploadRoutes(studio, uploadLimit === null ? DEFAULT_UPLOAD_LIMITS : uploadLimitsFrom(uploadLimit)), downloadRoutes(studio)];
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({ studio, staticDir, port, routes });
    } catch (err) {
      await studio.close();
      throw listenError(err, port);
    }
    if (args.values.json) {
      io.out(JSON.stringify({ url: server.url, port: server.port, library: libraryDir, pid: process.pid }) + '\n');
    } else {
      io.out(`ConvNet Studio is serving library ${libraryDir} (PID ${process.pid})\n`);
      io.out(`Open this URL in a browser on this machine (it carries the access token):\n\n  ${server.url}\n\nPress Ctrl+C to stop.\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // Started through npm (npx, npm exec, npm run): npm does not pass a kill on, so follow it out.
      if (io.env.npm_command) {
        whenParentExits((parent) => {
          io.err(`convnet serve: the npm process that started it (PID ${parent}) has exited; stopping.\n`);
          resolve();
        });
      }
    });
    await server.close();
    await studio.close();
    return 0;
  },
};

/** One sentence for a port the server cannot listen on; other errors pass through. */
function listenError(err: unknown, port: number): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') {
    return new ApiError('unavailable', `Port ${port} is already in use (another convnet serve, or another program). Choose another with --port N, or leave --port out for a free one.`);
  }
  if (code === 'EACCES') {
    return new ApiError('unavailable', `Port ${port} needs administrator rights on this system. Choose one above 1023 with --port N.`);
  }
  return err;
}
