#!/usr/bin/env node
// The `convnet` command: runs the compiled engine from build/ (made by `npm run build`, which `npm install` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../build/src/cli/index.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('convnet: the engine is not built yet. Run `npm run build` in the ConvNet Studio folder.\n');
  process.exit(1);
}
const cli = await import(pathToFileURL(entry).href);
await cli.main();
