import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Name of the cookie that carries the token after the first visit. */
export const TOKEN_COOKIE = 'convnet_token';

/** A fresh random token for one server session. */
export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

/** Reads the token a request carries: `?token=`, `Authorization: Bearer`, or the cookie. */
export function requestToken(req: IncomingMessage, url: URL): string | null {
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
    if (key === TOKEN_COOKIE) {
      return decodeURIComponent(rest.join('='));
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
