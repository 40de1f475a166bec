import { BrowserWindow, shell, type WebContents } from 'electron';
import { APP_ORIGIN } from './protocol.js';
import { preloadFile } from './paths.js';

/** Creates the UI window: isolated, sandboxed, no Node, no navigation away from the app. */
export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'ConvNet Studio',
    show: false,
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  lockDown(win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

/** Blocks navigation, new windows and webviews; http(s) links open in the user's browser instead. */
export function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) {
      event.preventDefault();
    }
  });
  contents.on('will-redirect', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) {
      event.preventDefault();
    }
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) {
      void shell.openExternal(url);
    }
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** True when an IPC message comes from a frame of the app's own origin (not a stray page or iframe). */
export function isTrustedSender(frame: { url: string } | null | undefined): boolean {
  return !!frame && frame.url.startsWith(`${APP_ORIGIN}/`);
}
