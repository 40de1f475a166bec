import fs from 'node:fs';
import { protocol } from 'electron';
import { SECURITY_HEADERS } from '../src/server/csp.js';
import { contentType, resolveInside } from '../src/server/static.js';
import type { Studio } from '../src/studio.js';
import { rendererDir } from './paths.js';

/** The app's own origin: the UI and its media are served from studio://app/. */
export const APP_ORIGIN = 'studio://app';

/** Must run before `app.ready`: makes studio:// a secure, standard scheme (origin, fetch, CSP 'self'). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: 'studio', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

/** Serves the built UI and /media/ routes from studio://app, with the CSP on every response. */
export function setupAppProtocol(studio: Studio): void {
  protocol.handle('studio', async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') {
      return new Response('Not found', { status: 404 });
    }
    if (url.pathname.startsWith('/media/')) {
      const answer = await studio.resolveMedia(url);
      if (!answer) {
        return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
      }
      if ('message' in answer) {
        return new Response(answer.message, { status: answer.status, headers: SECURITY_HEADERS });
      }
      const body = 'file' in answer ? await fs.promises.readFile(answer.file) : answer.body;
      return new Response(body as Uint8Array<ArrayBuffer>, { headers: { ...SECURITY_HEADERS, 'Content-Type': answer.contentType } });
    }
    const file = resolveInside(rendererDir, url.pathname === '/' ? '/index.html' : url.pathname);
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
    }
    return new Response((await fs.promises.readFile(file)) as Uint8Array<ArrayBuffer>, {
      headers: { ...SECURITY_HEADERS, 'Content-Type': contentType(file) },
    });
  });
}
