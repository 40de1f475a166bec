import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

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
