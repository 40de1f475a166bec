import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Name of the cookie that carries the token after the first visit. Cookies ignore the port, so each
 * server names its own: two `convnet serve` on one machine would otherwise overwrite each other's token.
 */
export function tokenCookieName(port: number): string {
  return `convnet_token_${port}`;
}

/** A fresh random token for one server session. */
export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

/** Reads the token a request carries: `?token=`, `Authorization: Bearer`, or the server's cookie. Never throws. */
export function requestToken(req: IncomingMessage, url: URL, cookieName: string): string | null {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) {
    return fromQuery;
  }
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) {
    return auth.slice(7).trim();
  }
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === cookieName) {
      try {
        return decodeURIComponent(rest.join('='));
      } catch {
        // A malformed escape is no token (401), not a server error.
        return null;
      }
    }
  }
  return null;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte. */
export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) {
    return false;
  }
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Only loopback names may address the server: a guard against DNS rebinding. */
export function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) {
    return false;
  }
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return allowed.includes(hostHeader.toLowerCase());
}

/**
 * Whether a WebSocket's Origin may connect: absent (not a browser) or this server's own loopback origin.
 * `null` (sandboxed frames, file: pages) and anything that is not a URL are refused, never thrown on.
 */
export function originAllowed(origin: string | undefined, port: number): boolean {
  if (origin === undefined) {
    return true;
  }
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  return parsed.protocol === 'http:' && hostAllowed(parsed.host, port);
}
