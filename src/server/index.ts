import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatch, toErrorBody } from '../api/dispatch.js';
import { ApiError } from '../api/errors.js';
import type { Studio } from '../studio.js';
import { hostAllowed, newToken, originAllowed, requestToken, tokenCookieName, tokenMatches } from './auth.js';
import { readBody } from './body.js';
import { SECURITY_HEADERS } from './csp.js';
import { clientErrorAnswer, refuseOnSocket } from './refuse.js';
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

  // A request without Host gets this server's 421 with its message rather than Node's bare 400.
  const server = http.createServer({ requireHostHeader: false }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        const error = toErrorBody(err);
        sendJson(res, err instanceof ApiError ? statusFor(error.code) : 500, { ok: false, error });
      } else {
        res.destroy();
      }
    });
  });
  // Requests Node cannot parse (unknown methods, bad headers, oversized headers): a 4xx with a message.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorAnswer(err);
    const sent = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (!answer || sent) {
      socket.destroy();
      return;
    }
    refuseOnSocket(socket, ...answer);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, port)) {
      sendText(res, 421, 'Misdirected request: this server answers only to 127.0.0.1 / localhost.');
      return;
    }
    const url = requestUrl(req);
    if (!tokenMatches(requestToken(req, url, tokenCookieName(port)), token)) {
      sendText(res, 401, 'Unauthorized: open the URL that `convnet serve` printed (it carries the access token).');
      return;
    }
    if (safeDecode(url.pathname) === null) {
      sendText(res, 400, 'Bad request: the path has a malformed %-escape.');
      return;
    }
    // The first visit carries ?token=; a strict same-site cookie lets the page load its assets.
    const cookie = `${tokenCookieName(port)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') {
        sendJson(res, 405, { ok: false, error: { code: 'bad_request', message: 'Use POST with a JSON body.' } });
        return;
      }
      const body = await readBody(req, MAX_BODY);
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
      const reply = await dispatch(studio.handlers, safeDecode(url.pathname.slice(5)), input);
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
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the socket over without an error listener: a client reset must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    const refusal = upgradeRefusal(req);
    if (refusal) {
      refuseOnSocket(socket, ...refusal);
      return;
    }
    // ws answers a malformed handshake (version, key, subprotocols) with its own 400.
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  /** Why a WebSocket upgrade is refused (status and message), or null to accept it. */
  function upgradeRefusal(req: IncomingMessage): [number, string] | null {
    if (!hostAllowed(req.headers.host, port)) {
      return [421, 'Misdirected request: this server answers only to 127.0.0.1 / localhost.'];
    }
    if (!originAllowed(req.headers.origin, port)) {
      return [403, `Forbidden: WebSocket connections are accepted only from this server's own page (Origin ${JSON.stringify(req.headers.origin?.slice(0, 100))}).`];
    }
    const url = requestUrl(req);
    if (!tokenMatches(requestToken(req, url, tokenCookieName(port)), token)) {
      return [401, 'Unauthorized: open the URL that `convnet serve` printed (it carries the access token).'];
    }
    if (url.pathname !== '/ws') {
      return [404, 'Not found: the WebSocket is at /ws.'];
    }
    return null;
  }

  /** The request's URL against this server's own origin (the Host header is checked, never trusted). */
  function requestUrl(req: IncomingMessage): URL {
    try {
      return new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return new URL('/', `http://127.0.0.1:${port}`);
    }
  }

  function serveSocket(ws: WebSocket): void {
    // Bad frames (over maxPayload, invalid UTF-8, protocol errors) emit 'error'; ws then closes the socket
    // with the matching code (1009, 1007, 1002). Unhandled, that event would end the process.
    ws.on('error', () => undefined);
    const unsubscribe = studio.events.onAny((event, payload) => {
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'event', event, payload }));
      }
    });
    ws.on('close', unsubscribe);
    ws.on('message', (data) => {
      answer(ws, data.toString()).catch(() => ws.terminate());
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

/** decodeURIComponent, or null for a malformed escape. */
function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...SECURITY_HEADERS });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  const body = text + '\n';
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...SECURITY_HEADERS });
  res.end(body);
}
