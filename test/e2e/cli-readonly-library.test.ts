// A library the user cannot write (a colleague's folder, a read-only mount): every command says so in one
// sentence naming the folder, instead of a SQLite stack trace. Run as root, the CLI drops to `nobody`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/temp.js';

const t = tempDir();
const library = path.join(t.dir, 'library');
const asRoot = process.getuid?.() === 0;

/** Runs the CLI as a user who cannot write the library (nobody, when the tests run as root). */
function convnetAsReader(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, CONVNET_LIBRARY: '', HOME: t.dir },
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * As root, `nobody` must be able to run Node and read the checkout (a clone under a private folder, or a
 * Node unpacked into a 0700 temp folder, is out of its reach): otherwise the test cannot run here.
 */
function whyReaderCannotRun(): string | null {
  if (!asRoot) {
    return null;
  }
  const probe = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), '--help'], { cwd: repoRoot, encoding: 'utf8', uid: 65534, gid: 65534 });
  if (probe.status === 0) {
    return null;
  }
  return `user nobody cannot run ${process.execPath} on this checkout (${probe.error?.message ?? (probe.stderr.split('\n')[0] || `exit ${String(probe.status)}`)}); make Node and the checkout readable by other users to run it`;
}
const skipReason = whyReaderCannotRun();
if (skipReason) {
  console.warn(`[read-only library test] SKIPPED: ${skipReason}`);
}

beforeAll(() => {
  if (skipReason) {
    return;
  }
  const made = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'datasets', '--library', library], { cwd: repoRoot, encoding: 'utf8' });
  expect(made.status).toBe(0);
  fs.chmodSync(t.dir, 0o755);
  for (const entry of fs.readdirSync(library)) {
    fs.chmodSync(path.join(library, entry), fs.statSync(path.join(library, entry)).isDirectory() ? 0o555 : 0o444);
  }
  fs.chmodSync(library, 0o555);
});

afterAll(() => {
  if (fs.existsSync(library)) {
    fs.chmodSync(library, 0o755);
  }
  t.cleanup();
});

describe.skipIf(skipReason !== null)('a library this user cannot write', () => {
  const sentence = `The library ${library} is not writable by this user (the folder or its library.sqlite), and ConvNet Studio must write there even to read it: make it writable, or choose another with --library DIR (or CONVNET_LIBRARY).`;

  it.each(['datasets', 'datasets --json', 'import .', 'serve --port 0'])('convnet %s says so in one sentence', (command) => {
    const args = command.split(' ');
    const run = convnetAsReader(...args, '--library', library);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`convnet ${args[0]}: ${sentence}\n`);
    expect(run.stdout).toBe('');
  });
});
