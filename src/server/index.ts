import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatch } from '../api/dispatch.js';
import type { Studio } from '../studio.js';
import { hostAllowed, newToken, requestToken, TOKEN_COOKIE, tokenMatches } from './auth.js';
import { SECURITY_HEADERS } from './csp.js';
import { resolveInside, sendFile } from './static.js';

/** Extra HTTP routes a domain adds (e.g. image bytes by id); return false to pass. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface ServeOptions {
  studio: Studio;
  /** Folder with the built UI (index.html + assets). */
  staticDir: string;
  port?: number;
  /** A fixed token (tests); random otherwise. */
  token?: string;
  routes?: RouteHandler[];
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** Largest JSON request body accepted over HTTP or one WebSocket message. */
const MAX_BODY = 1024 * 1024;

/** Serves the UI and the API contract on 127.0.0.1 only, behind a random token. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { studio } = options;
  const token = options.token ?? newToken();
  const staticRoot = path.resolve(options.staticDir);
  let port = options.port ?? 0;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, { ok: false, error: { code: 'internal', message: String((err as Error)?.message ?? err) } });
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, port)) {
      sendText(res, 421, 'Misdirected request: this server answers only to 127.0.0.1 / localhost.');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (!tokenMatches(requestToken(req, url), token)) {
      sendText(res, 401, 'Unauthorized: open the URL that `convnet serve` printed (it carries the access token).');
      return;
    }
    // The first visit carries ?token=; a strict same-site cookie lets the page load its assets.
    const cookie = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') {
        sendJson(res, 405, { ok: false, error: { code: 'bad_request', message: 'Use POST with a JSON body.' } });
        return;
      }
      const body = await readBody(req);
      if (body === null) {
        sendJson(res, 413, { ok: false, error: { code: 'bad_request', message: `Request body over ${MAX_BODY} bytes.` } });
        return;
      }
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body) : {};
      } catch {
        sendJson(res, 400, { ok: false, error: { code: 'bad_request', message: 'Request body is not valid JSON.' } });
        return;
      }
      const reply = await dispatch(studio.handlers, decodeURIComponent(url.pathname.slice(5)), input);
      sendJson(res, reply.ok ? 200 : statusFor(reply.error.code), reply);
      return;
    }
    if (url.pathname.startsWith('/media/')) {
      const answer = await studio.resolveMedia(url);
      if (!answer) {
        sendText(res, 404, 'Not found.');
      } else if ('message' in answer) {
        sendText(res, answer.status, answer.message);
      } else {
        const headers = { ...SECURITY_HEADERS, 'Cache-Control': `private, max-age=${answer.cacheSeconds ?? 0}` };
        if ('file' in answer) {
          if (!sendFile(res, answer.file, { ...headers, 'Content-Type': answer.contentType })) {
            sendText(res, 404, 'Not found.');
          }
        } else {
          res.writeHead(200, { ...headers, 'Content-Type': answer.contentType, 'Content-Length': answer.body.byteLength });
          res.end(answer.body);
        }
      }
      return;
    }
    for (const route of options.routes ?? []) {
      if (await route(req, res, url)) {
        return;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method not allowed.');
      return;
    }
    const relative = url.pathname === '/' ? '/index.html' : url.pathname;
    const file = resolveInside(staticRoot, relative);
    const headers = { ...SECURITY_HEADERS, 'Set-Cookie': cookie, 'Cache-Control': 'no-cache' };
    if (file && sendFile(res, file, headers)) {
      return;
    }
    // Unknown paths without an extension are the UI's own routes.
    if (!path.extname(relative) && sendFile(res, path.join(staticRoot, 'index.html'), headers)) {
      return;
    }
    sendText(res, 404, 'Not found.');
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const originOk = !req.headers.origin || hostAllowed(new URL(req.headers.origin).host, port);
    if (!hostAllowed(req.headers.host, port) || !originOk || url.pathname !== '/ws' || !tokenMatches(requestToken(req, url), token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  function serveSocket(ws: WebSocket): void {
    const unsubscribe = studio.events.onAny((event, payload) => {
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'event', event, payload }));
      }
    });
    ws.on('close', unsubscribe);
    ws.on('message', (data) => {
      void answer(ws, data.toString());
    });
  }

  async function answer(ws: WebSocket, text: string): Promise<void> {
    let message: { id?: unknown; method?: unknown; input?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      ws.send(JSON.stringify({ type: 'reply', id: null, reply: { ok: false, error: { code: 'bad_request', message: 'Message is not valid JSON.' } } }));
      return;
    }
    const id = typeof message?.id === 'number' || typeof message?.id === 'string' ? message.id : null;
    const reply = await dispatch(studio.handlers, message?.method, message?.input);
    if (ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify({ type: 'reply', id, reply }));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;

  return {
    url,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) {
          client.terminate();
        }
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function statusFor(code: string): number {
  switch (code) {
    case 'bad_request':
      return 400;
    case 'unknown_method':
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'unavailable':
      return 503;
    default:
      return 500;
  }
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...SECURITY_HEADERS });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  res.end(text + '\n');
}
