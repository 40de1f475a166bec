#!/usr/bin/env node
// Builds better-sqlite3 for Electron's ABI into build/electron-native/, for `npm start`.
// node_modules keeps the Node build (tests and the CLI use it); Electron loads this copy through
// better-sqlite3's `nativeBinding` option. Packaged apps do not need it: electron-builder rebuilds there.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'build', 'electron-native');
const target = path.join(outDir, 'better_sqlite3.node');
const stampFile = path.join(outDir, 'stamp.json');

const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
const sqliteVersion = JSON.parse(readFileSync(path.join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version;
const stamp = { electronVersion, sqliteVersion, platform: process.platform, arch: process.arch };

if (existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === JSON.stringify(stamp)) {
  process.exit(0);
}

console.log(`Building better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (once)…`);
const work = path.join(outDir, 'work');
rmSync(work, { recursive: true, force: true });
mkdirSync(path.join(work, 'node_modules'), { recursive: true });
cpSync(path.join(root, 'node_modules', 'better-sqlite3'), path.join(work, 'node_modules', 'better-sqlite3'), {
  recursive: true,
  filter: (src) => !src.includes(`${path.sep}build${path.sep}`),
});
writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'electron-native', version: '0.0.0', dependencies: { 'better-sqlite3': sqliteVersion } }));

try {
  const { rebuild } = await import('@electron/rebuild');
  await rebuild({ buildPath: work, electronVersion, onlyModules: ['better-sqlite3'], force: true, arch: process.arch });
} catch (err) {
  console.error(`Could not build better-sqlite3 for Electron: ${err.message}`);
  console.error('Electron needs its headers from the internet once (and a C++ toolchain); `npm run serve` works without them.');
  process.exit(1);
}
cpSync(path.join(work, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), target);
writeFileSync(stampFile, JSON.stringify(stamp));
rmSync(work, { recursive: true, force: true });
console.log(`Done: ${path.relative(root, target)}`);
