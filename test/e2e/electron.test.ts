import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { _electron as electron } from 'playwright-core';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

/** Path of Electron's binary if `npm install` could fetch it; null with the reason otherwise. */
function electronBinary(): { path: string | null; reason: string } {
  const pkgDir = path.join(repoRoot, 'node_modules', 'electron');
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!fs.existsSync(pathFile)) {
    return { path: null, reason: 'the Electron binary is not installed (node_modules/electron/path.txt missing: its download needs network access)' };
  }
  const exe = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(pkgDir, 'dist'), fs.readFileSync(pathFile, 'utf8'));
  return fs.existsSync(exe) ? { path: exe, reason: '' } : { path: null, reason: `the Electron binary ${exe} is missing` };
}

const binary = electronBinary();
const nativeSqlite = fs.existsSync(path.join(repoRoot, 'build', 'electron-native', 'better_sqlite3.node'));
const skipReason = binary.path
  ? nativeSqlite
    ? ''
    : 'better-sqlite3 is not built for Electron (run `node scripts/electron-native.mjs`, which `npm start` does)'
  : binary.reason;

if (skipReason) {
  // Said out loud, so a skipped smoke test is never mistaken for a passing one.
  console.warn(`[electron smoke test] SKIPPED: ${skipReason}`);
}

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

describe.skipIf(!!skipReason)(`Electron app${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('opens the window, locked down, with the backend in the status bar', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const app = await electron.launch({ executablePath: binary.path!, args: [repoRoot, '--library', t.dir], cwd: repoRoot });
    try {
      const page = await app.firstWindow();
      await page.getByTestId('backend').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('status-bar').textContent()).toContain('Desktop');
      // No Node in the page; only the named bridge.
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as { convnet?: { api?: unknown } }).convnet?.api)).toBe('object');
      expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
      // Navigation away from the app is blocked.
      await page.evaluate(() => {
        location.href = 'https://example.com/';
      });
      await page.waitForTimeout(500);
      expect(page.url()).toMatch(/^studio:\/\/app\//);
      await page.screenshot({ path: artifactPath('e2e', 'electron-home.png') });
    } finally {
      await app.close();
    }
  });
});
