/** Bytes a media route answers with: a file on disk or a buffer, and its type. */
export type MediaResponse =
  | { status: 200; contentType: string; file: string; cacheSeconds?: number }
  | { status: 200; contentType: string; body: Uint8Array; cacheSeconds?: number }
  | { status: 400 | 404 | 415 | 500; message: string };

/**
 * Answers `GET /media/...` in both hosts (HTTP route in browser mode, `studio://app/media/...` in Electron).
 * Returns null for URLs it does not own. Media is addressed by id, never by a client-supplied path.
 */
export type MediaResolver = (url: URL) => Promise<MediaResponse | null>;
