import os from 'node:os';
import path from 'node:path';
import envPaths from 'env-paths';

/** The library folder: `--library`, then `CONVNET_LIBRARY`, then the platform's data folder. */
export function resolveLibraryDir(explicit?: string | null, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env.CONVNET_LIBRARY;
  if (chosen && chosen.trim() !== '') {
    return path.resolve(expandHome(chosen.trim()));
  }
  return defaultLibraryDir();
}

/** Where a library lives when nobody says otherwise (XDG / Application Support / AppData). */
export function defaultLibraryDir(): string {
  return path.join(envPaths('ConvNet Studio', { suffix: '' }).data, 'library');
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}
