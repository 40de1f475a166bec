/*
 * Packed cache file layout (version 1):
 *
 *   [records]  count × packSize × packSize × 3 bytes, uint8 HWC RGB, in header.ids order
 *   [header]   UTF-8 JSON (PackHeader)
 *   [footer]   16 bytes: u32 LE header byte length, u32 LE format version, 8 bytes magic "CNVPACK\0"
 *
 * The JSON "header" sits after the records because which images fail to decode is only
 * known at the end; this way a pack is written in one sequential pass, never copied.
 */

/** Format version written in the footer and header. */
export const PACK_VERSION = 1;
/** Magic bytes at the very end of every pack. */
export const PACK_MAGIC = Buffer.from('CNVPACK\0', 'latin1');
/** Byte length of the fixed footer. */
export const PACK_FOOTER_BYTES = 16;

/** An image that could not be packed, and why. */
export interface PackError {
  id: number;
  path: string;
  message: string;
}

/** The JSON metadata of a pack; plain JSON. */
export interface PackHeader {
  format: 'convnet-pack';
  version: number;
  /** Side of every square record in pixels. */
  packSize: number;
  channels: 3;
  /** Colour transparent pixels were flattened onto. */
  background: 'black';
  /** Number of records. */
  count: number;
  /** Image id of each record, in record order. */
  ids: number[];
  /** Label of each record, in record order. */
  labels: number[];
  /** Images that were skipped. */
  errors: PackError[];
  /** Whatever the caller asked to store (e.g. a dataset snapshot hash). */
  meta: unknown;
}

/** Bytes in one record of a pack of this size. */
export function recordBytes(packSize: number): number {
  return packSize * packSize * 3;
}

/** Serialises the header and footer that close a pack. */
export function encodeTrailer(header: PackHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const footer = Buffer.alloc(PACK_FOOTER_BYTES);
  footer.writeUInt32LE(json.length, 0);
  footer.writeUInt32LE(PACK_VERSION, 4);
  PACK_MAGIC.copy(footer, 8);
  return Buffer.concat([json, footer]);
}

/** Reads the header's length and version from a footer; throws on anything that is not a pack. */
export function decodeFooter(footer: Buffer, fileSize: number): { headerBytes: number; version: number } {
  if (footer.length !== PACK_FOOTER_BYTES || !footer.subarray(8).equals(PACK_MAGIC)) {
    throw new Error('not a ConvNet Studio pack (bad magic)');
  }
  const headerBytes = footer.readUInt32LE(0);
  const version = footer.readUInt32LE(4);
  if (version !== PACK_VERSION) {
    throw new Error(`unsupported pack version ${version} (this build reads ${PACK_VERSION})`);
  }
  if (headerBytes + PACK_FOOTER_BYTES > fileSize) {
    throw new Error('pack is truncated');
  }
  return { headerBytes, version };
}

/** Parses and checks a pack header against the file's size. */
export function parseHeader(json: Buffer, fileSize: number): PackHeader {
  const header = JSON.parse(json.toString('utf8')) as PackHeader;
  if (header.format !== 'convnet-pack' || !Number.isInteger(header.packSize) || header.packSize <= 0) {
    throw new Error('pack header is malformed');
  }
  if (header.ids.length !== header.count || header.labels.length !== header.count) {
    throw new Error('pack header ids/labels do not match its count');
  }
  const expected = header.count * recordBytes(header.packSize) + json.length + PACK_FOOTER_BYTES;
  if (expected !== fileSize) {
    throw new Error(`pack size is ${fileSize} bytes, header implies ${expected}`);
  }
  return header;
}
