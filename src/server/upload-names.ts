/** Deepest folder nesting an uploaded name may have. */
const MAX_DEPTH = 32;
/** Longest name segment, in UTF-8 bytes (the common file-system limit). */
const MAX_SEGMENT_BYTES = 255;

/** Why a client-supplied name was refused, in words that follow the name. */
export interface BadName {
  reason: string;
}

/**
 * Checks a relative name from a client (an uploaded file's folder path, a zip entry) and returns it with `/`
 * separators, or why it is refused: absolute and drive paths, `..` (path traversal), control characters,
 * backslashes, over-long names. `.` and empty segments are dropped; the result is never empty.
 */
export function safeRelativePath(name: string): string | BadName {
  if (name.includes('\0') || /[\u0001-\u001f\u007f]/.test(name)) {
    return { reason: 'has a control character in its name' };
  }
  if (name.includes('\\')) {
    return { reason: 'has a backslash in its name' };
  }
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    return { reason: 'is an absolute path' };
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    return { reason: 'climbs out of its folder with ".." (path traversal)' };
  }
  if (segments.length === 0) {
    return { reason: 'has an empty name' };
  }
  if (segments.length > MAX_DEPTH) {
    return { reason: `is nested deeper than ${MAX_DEPTH} folders` };
  }
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    return { reason: `has a name part longer than ${MAX_SEGMENT_BYTES} bytes` };
  }
  return segments.join('/');
}
