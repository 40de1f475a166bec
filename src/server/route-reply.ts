import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiErrorCode } from '../api/errors.js';
import { SECURITY_HEADERS } from './csp.js';

/** Bytes of a refused request body still read (and dropped) so that the client sees the answer, not a reset. */
const DRAIN_BYTES = 16 * 1024 * 1024;

/** Answers in the contract's reply shape: `{ok: true, result}`. */
export function replyOk(res: ServerResponse, result: unknown): void {
  send(res, 200, { ok: true, result });
}

/** Answers `{ok: false, error}` with an HTTP status that fits it. */
export function replyError(res: ServerResponse, status: number, message: string, code: ApiErrorCode = status === 404 ? 'not_found' : status >= 500 ? 'internal' : 'bad_request'): void {
  send(res, status, { ok: false, error: { code, message } });
}

/**
 * Refuses a request whose body may still be arriving: the rest is read and dropped (up to 16 MiB, so a
 * client that sends before it listens still gets the message), then the answer goes out and the
 * connection closes. Past that, the answer goes out at once and the socket is closed behind it.
 */
export function refuseUpload(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('Connection', 'close');
  const answer = (): void => {
    if (!res.headersSent) {
      replyError(res, status, message);
      res.once('finish', () => req.socket.destroySoon?.());
    }
  };
  if (req.complete || req.destroyed) {
    answer();
    return;
  }
  let dropped = 0;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared - (req.socket.bytesRead ?? 0) > DRAIN_BYTES) {
    answer();
    req.resume();
    return;
  }
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_BYTES) {
      req.removeAllListeners('data');
      answer();
      req.pause();
    }
  });
  req.once('end', answer);
  req.once('error', () => res.destroy());
  req.resume();
}

/** True when a state-changing request comes from this server's own pages (or a non-browser client, which sends no Origin). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...SECURITY_HEADERS });
  res.end(text);
}
