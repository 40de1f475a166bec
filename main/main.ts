import path from 'node:path';
import { app, BrowserWindow, session } from 'electron';
import { resolveLibraryDir } from '../src/library/paths.js';
import { openStudio, type Studio } from '../src/studio.js';
import { setupComputeWindow } from './compute-window.js';
import { setupIpc } from './ipc.js';
import { setupMenu } from './menu.js';
import { electronSqliteBinding } from './paths.js';
import { registerAppScheme, setupAppProtocol } from './protocol.js';
import { createMainWindow } from './window.js';

/** `--library DIR` on Electron's command line, if given. */
function libraryArg(argv: string[]): string | null {
  const i = argv.indexOf('--library');
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : null;
}

registerAppScheme();
let studio: Studio | null = null;

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  const libraryDir = resolveLibraryDir(libraryArg(process.argv), {
    ...process.env,
    CONVNET_LIBRARY: process.env.CONVNET_LIBRARY ?? path.join(app.getPath('userData'), 'library'),
  });
  const binding = electronSqliteBinding();
  studio = openStudio({ libraryDir, host: 'electron', ...(binding ? { nativeBinding: binding } : {}) });
  setupAppProtocol(studio);
  setupIpc(studio);
  setupComputeWindow(studio);
  setupMenu();
  createMainWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) {
      createMainWindow();
    }
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') {
    app.quit();
  }
});

// Quitting waits for the engine: a training run stops after its batch and writes its checkpoint.
let closing = false;
app.on('before-quit', (event) => {
  if (closing || !studio) {
    return;
  }
  event.preventDefault();
  closing = true;
  void studio.close().finally(() => app.quit());
});
