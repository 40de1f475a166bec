import path from 'node:path';

/** The folder of a run's checkpoint, features and exports: <library>/runs/<id> (library.runsDir holds them all). */
export function runDirOf(libraryDir: string, runId: number): string {
  return path.join(libraryDir, 'runs', String(runId));
}
