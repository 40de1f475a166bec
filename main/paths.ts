import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../src/version.js';

/** The built UI folder loaded through studio://app. */
export const rendererDir = path.join(appRoot, 'build', 'renderer');

/** The sandboxed preload, bundled to CommonJS by `npm run build`. */
export const preloadFile = path.join(appRoot, 'build', 'preload', 'preload.cjs');

/**
 * better-sqlite3 compiled for Electron's ABI (made by scripts/electron-native.mjs for `npm start`);
 * packaged apps get theirs rebuilt by electron-builder, so none is needed there.
 */
export function electronSqliteBinding(): string | undefined {
  const file = path.join(appRoot, 'build', 'electron-native', 'better_sqlite3.node');
  return fs.existsSync(file) ? file : undefined;
}
