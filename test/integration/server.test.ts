import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { openStudio, type Studio } from '../../src/studio.js';
import { tempDir } from '../helpers/temp.js';

let studio: Studio;
let server: RunningServer;
let cleanup: () => void;
let staticDir: string;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  staticDir = path.join(t.dir, 'ui');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>ConvNet Studio</title>');
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(t.dir, 'secret.txt'), 'do not serve');
  studio = openStudio({ libraryDir: path.join(t.dir, 'lib'), host: 'server' });
  server = await startServer({ studio, staticDir });
});

afterAll(async () => {
  await server.close();
  await studio.close();
  cleanup();
});

const base = () => `http://127.0.0.1:${server.port}`;
const auth = () => ({ Authorization: `Bearer ${server.token}` });

describe('browser-mode server', () => {
  it('listens on 127.0.0.1 and prints a URL with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  });

  it('refuses requests without the token (401)', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(401);
    expect((await fetch(`${base()}/api/app.ping`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base()}/?token=wrong`)).status).toBe(401);
  });

  it('serves the UI with the token, sets the cookie and the CSP', async () => {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('ConvNet Studio');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    // Assets load with the cookie alone, as the page's <script> tags do.
    const asset = await fetch(`${base()}/assets/app.js`, { headers: { Cookie: cookie.split(';')[0]! } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
  });

  it('refuses other Host names (DNS rebinding)', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: server.port, path: `/?token=${server.token}`, headers: { Host: 'evil.example:80' } }, (res) => resolve(res.statusCode!));
    });
    expect(status).toBe(421);
  });

  it('never serves files outside the UI folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00']) {
      const res = await fetch(`${base()}${p}`, { headers: auth() });
      expect(await res.text()).not.toContain('do not serve');
    }
  });

  it('answers the contract over HTTP POST, with clear errors for bad requests', async () => {
    const ok = await fetch(`${base()}/api/app.info`, { method: 'POST', headers: auth(), body: '{}' });
    expect(ok.status).toBe(200);
    const info = await ok.json();
    expect(info.ok).toBe(true);
    expect(info.result.host).toBe('server');

    const badJson = await fetch(`${base()}/api/app.info`, { method: 'POST', headers: auth(), body: '{nope' });
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error.message).toMatch(/not valid JSON/);

    const unknown = await fetch(`${base()}/api/app.nothing`, { method: 'POST', headers: auth(), body: '{}' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('unknown_method');

    const invalid = await fetch(`${base()}/api/app.ping`, { method: 'POST', headers: auth(), body: '{"x":1}' });
    expect(invalid.status).toBe(400);

    const huge = await fetch(`${base()}/api/app.ping`, { method: 'POST', headers: auth(), body: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.message).toMatch(/over 1048576 bytes/);

    // The server is still up after all that.
    expect((await fetch(`${base()}/api/app.ping`, { method: 'POST', headers: auth() })).status).toBe(200);
  });

  it('refuses a WebSocket without the token', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const outcome = await new Promise<string>((resolve) => {
      ws.on('open', () => resolve('open'));
      ws.on('error', (err) => resolve(err.message));
    });
    expect(outcome).toMatch(/401/);
  });

  it('answers requests and pushes events over the WebSocket', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const messages: Array<Record<string, unknown>> = [];
    const next = (pred: (m: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const found = messages.find(pred);
        if (found) {
          resolve(found);
          return;
        }
        ws.on('message', function onMessage(data) {
          const m = JSON.parse(data.toString());
          if (pred(m)) {
            ws.off('message', onMessage);
            resolve(m);
          }
        });
      });
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));

    ws.send(JSON.stringify({ id: 1, method: 'app.ping', input: {} }));
    const reply = await next((m) => m.type === 'reply' && m.id === 1);
    expect(reply.reply).toMatchObject({ ok: true });

    ws.send('not json');
    const bad = await next((m) => m.type === 'reply' && m.id === null);
    expect(bad.reply).toMatchObject({ ok: false, error: { code: 'bad_request' } });

    ws.send(JSON.stringify({ id: 2, method: 'app.ping', input: { extra: 1 } }));
    expect((await next((m) => m.id === 2)).reply).toMatchObject({ ok: false, error: { code: 'bad_request' } });

    studio.events.emit('app.log', { level: 'info', message: 'hello from the engine', time: 1 });
    const event = await next((m) => m.type === 'event');
    expect(event).toEqual({ type: 'event', event: 'app.log', payload: { level: 'info', message: 'hello from the engine', time: 1 } });
    ws.close();
  });
});
