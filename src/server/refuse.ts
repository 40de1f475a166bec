import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Answers on a bare socket with a status and a one-line message, then closes it: for upgrades the server
 * refuses and for requests Node's HTTP parser could not read. A socket already gone is just destroyed.
 */
export function refuseOnSocket(socket: Duplex, status: number, message: string): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'X-Content-Type-Options: nosniff\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** The status and message for a request Node's HTTP parser rejected; null when the client is already gone. */
export function clientErrorAnswer(err: NodeJS.ErrnoException): [number, string] | null {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request headers too large.'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request timed out: the request did not arrive in time.'];
    case 'HPE_INVALID_METHOD':
      return [400, 'Bad request: unknown HTTP method.'];
    default:
      return [400, `Bad request: malformed HTTP (${err.code ?? 'parse error'}).`];
  }
}
