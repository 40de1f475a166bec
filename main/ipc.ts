import { BrowserWindow, dialog, ipcMain } from 'electron';
import { methodNames } from '../src/api/contract.js';
import { dispatch } from '../src/api/dispatch.js';
import type { Reply } from '../src/api/errors.js';
import type { Studio } from '../src/studio.js';
import { isTrustedSender } from './window.js';

const UNTRUSTED: Reply = { ok: false, error: { code: 'bad_request', message: 'Request refused: it did not come from the app window.' } };

/** Registers one `ipcMain.handle` per contract method, and forwards engine events to every window. */
export function setupIpc(studio: Studio): void {
  for (const name of methodNames) {
    ipcMain.handle(`api:${name}`, async (event, input: unknown) => {
      if (!isTrustedSender(event.senderFrame)) {
        return UNTRUSTED;
      }
      return dispatch(studio.handlers, name, input);
    });
  }
  ipcMain.handle('host:pick-paths', async (event, kind: unknown) => {
    if (!isTrustedSender(event.senderFrame)) {
      return [];
    }
    const win = BrowserWindow.fromWebContents(event.sender);
    const properties: Array<'openDirectory' | 'openFile' | 'multiSelections'> =
      kind === 'files' ? ['openFile', 'multiSelections'] : ['openDirectory', 'multiSelections'];
    const result = win ? await dialog.showOpenDialog(win, { properties }) : await dialog.showOpenDialog({ properties });
    return result.canceled ? [] : result.filePaths;
  });
  studio.events.onAny((event, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed()) {
        win.webContents.send('api:event', event, payload);
      }
    }
  });
}
