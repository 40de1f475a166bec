import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Flags for headless Chromium on a machine without GPU, sandbox or network (root in CI: no sandbox, no zygote). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium to drive: set by the e2e project's globalSetup (test-browser-setup.ts), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const found = process.env.CHROMIUM_PATH;
  if (!found || !fs.existsSync(found)) {
    throw new Error('No Chromium for end-to-end tests: run them through vitest\'s e2e project (it unpacks @sparticuz/chromium) or set CHROMIUM_PATH.');
  }
  return found;
}

/** Launches headless Chromium with the flags this project's tests need. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  // The packaged headless shell takes its locale from LANG; under LANG=C(.UTF-8) it reports
  // "en-US@posix", which Intl (and so uPlot at load) rejects. Users' browsers report a real locale.
  const env = { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' };
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...extraArgs], headless: true, env });
}

/** Collects a page's console errors and uncaught exceptions (CSP violations show up there) into `errors`. */
export function recordPageErrors(page: Page, errors: string[]): void {
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      errors.push(msg.text());
    }
  });
  page.on('pageerror', (err) => errors.push(err.message));
}

/**
 * Gives a page of browser mode the desktop app's preload bridge (`window.convnet`), backed by the
 * server's HTTP API and WebSocket: the UI then behaves as in Electron (drop zones, pickers). Dropped
 * files map to `dropped[file name]`; the picker answers `picked`.
 */
export async function installStandInBridge(page: Page, o: { token: string; dropped: Record<string, string>; picked?: string[] }): Promise<void> {
  await page.addInitScript(
    ({ token, dropped, picked }) => {
      const listeners = new Set<(event: string, payload: unknown) => void>();
      const ws = new WebSocket(`ws://${location.host}/ws?token=${token}`);
      ws.onmessage = (m) => {
        const data = JSON.parse(String(m.data));
        if (data.type === 'event') {
          listeners.forEach((l) => l(data.event, data.payload));
        }
      };
      const api = new Proxy(
        {},
        {
          get: (_t, method: string) => async (input: unknown) =>
            (await fetch(`/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify(input ?? {}) })).json(),
        },
      );
      Object.assign(window, {
        convnet: {
          api,
          onEvent: (l: (event: string, payload: unknown) => void) => (listeners.add(l), () => listeners.delete(l)),
          pathsForFiles: (files: File[]) => files.map((f) => dropped[f.name] ?? '').filter(Boolean),
          pickPaths: async () => picked,
        },
      });
    },
    { token: o.token, dropped: o.dropped, picked: o.picked ?? [] },
  );
}
