import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's root folder (holding package.json), from source or from `build/`. */
export const appRoot: string = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The app's package.json fields that the UI and CLI show. */
export const pkg: { name: string; productName: string; version: string } = JSON.parse(
  fs.readFileSync(path.join(appRoot, 'package.json'), 'utf8'),
);

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && JSON.parse(fs.readFileSync(candidate, 'utf8')).name === 'convnet-studio') {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`package.json of convnet-studio not found above ${start}`);
    }
  }
}
