// Which Chromium the end-to-end tests (and the WebGPU bench) drive. On Linux the one inside the
// `@sparticuz/chromium` dev dependency, so `npm install && npm test` needs no system browser and every
// machine tests the same build; on macOS and Windows the installed Chrome or Edge. CHROMIUM_PATH wins.
import fs from 'node:fs';
import path from 'node:path';

const installedBrowsers: Record<string, string[]> = {
  darwin: [
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
  ],
  win32: [
    path.join(process.env['PROGRAMFILES'] ?? 'C:\\Program Files', 'Google', 'Chrome', 'Application', 'chrome.exe'),
    path.join(process.env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)', 'Microsoft', 'Edge', 'Application', 'msedge.exe'),
  ],
};

/** Resolves the test browser's executable, unpacking the packaged Chromium on first use (Linux x64). */
export async function resolveTestChromium(): Promise<string> {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!fs.existsSync(override)) {
      throw new Error(`CHROMIUM_PATH names ${override}, which does not exist.`);
    }
    return override;
  }
  if (process.platform === 'linux') {
    const { default: Chromium } = await import('@sparticuz/chromium');
    return Chromium.executablePath();
  }
  const found = (installedBrowsers[process.platform] ?? []).find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error('No Chrome or Edge found for end-to-end tests: install one, or set CHROMIUM_PATH to a Chromium-based browser.');
  }
  return found;
}
