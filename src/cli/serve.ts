import path from 'node:path';
import fs from 'node:fs';
import { resolveLibraryDir } from '../library/paths.js';
import { startServer } from '../server/index.js';
import { openStudio } from '../studio.js';
import { appRoot } from '../version.js';
import { UsageError, type Command } from './command.js';

/** Where `npm run build` puts the UI. */
export function rendererDir(): string {
  return path.join(appRoot, 'build', 'renderer');
}

/** `convnet serve`: browser mode on 127.0.0.1 behind a random token; runs until interrupted. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the UI and API to a browser on 127.0.0.1 (token-protected)',
  usage: 'convnet serve [--library DIR] [--port N] [--json]',
  options: { library: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean', default: false } },
  optionHelp: [
    { flag: '--library DIR', text: "the library folder (default: $CONVNET_LIBRARY, else the platform's data folder)" },
    { flag: '--port N', text: 'the port on 127.0.0.1 (default: 0, any free port)' },
    { flag: '--json', text: 'print {url,port,library} as JSON on one line (default: off)' },
  ],
  async run(args, io) {
    const port = args.values.port === undefined ? 0 : Number(args.values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be an integer from 0 to 65535, got "${String(args.values.port)}".`);
    }
    const staticDir = rendererDir();
    if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
      io.err(`The UI is not built (${staticDir} is missing). Run \`npm run build\` first.\n`);
      return 1;
    }
    const libraryDir = resolveLibraryDir(typeof args.values.library === 'string' ? args.values.library : null, io.env);
    const studio = openStudio({ libraryDir, host: 'server' });
    const server = await startServer({ studio, staticDir, port });
    if (args.values.json) {
      io.out(JSON.stringify({ url: server.url, port: server.port, library: libraryDir }) + '\n');
    } else {
      io.out(`ConvNet Studio is serving library ${libraryDir}\n`);
      io.out(`Open this URL in a browser on this machine (it carries the access token):\n\n  ${server.url}\n\nPress Ctrl+C to stop.\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await studio.close();
    return 0;
  },
};
