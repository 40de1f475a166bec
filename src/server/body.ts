import type { IncomingMessage } from 'node:http';
import { ApiError } from '../api/errors.js';

/**
 * Reads a request body as UTF-8 text; null when it is over `limit` bytes. An oversized body is read to its end
 * and dropped rather than cut off, so the client receives the 413 instead of a reset connection.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => reject(new ApiError('bad_request', 'The request body was cut off before its end.')));
    req.on('close', () => {
      if (!req.complete) {
        reject(new ApiError('bad_request', 'The request body was cut off before its end.'));
      }
    });
  });
}
