#!/usr/bin/env node
// Entry of `npm run bench` (after `npm run build`): node bench/run.mjs [--full] [--only=1,2,...] [--out DIR]
// See bench/README.md for what each figure means.
import { existsSync } from 'node:fs';

const main = new URL('../build/bench/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('build/bench/main.js is missing: run `npm run build` first (npm run bench does).');
  process.exit(1);
}
const { runBench } = await import(main.href);
try {
  await runBench(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
}
