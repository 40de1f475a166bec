import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Flags for headless Chromium on a machine without GPU, sandbox or network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium to drive: CHROMIUM_PATH, else the system's (Debian's `chromium` package). */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((p): p is string => !!p && fs.existsSync(p));
  if (!found) {
    throw new Error('No Chromium found for end-to-end tests: install Debian\'s `chromium` (apt-get install chromium) or set CHROMIUM_PATH.');
  }
  return found;
}

/** Launches headless Chromium with the flags this project's tests need. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}
