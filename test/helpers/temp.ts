import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder; removed by the returned cleanup. */
export function tempDir(prefix = 'convnet-test-'): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Repository root (tests run from it, but be explicit). */
export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** Where tests write artifacts a person should look at (screenshots). */
export function artifactPath(...parts: string[]): string {
  const file = path.join(repoRoot, 'test-results', ...parts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}
